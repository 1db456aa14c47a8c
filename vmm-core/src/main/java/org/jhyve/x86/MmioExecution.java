package org.jhyve.x86;

import org.jhyve.hv.SpecialRegisters;

/**
 * One MMIO instruction being emulated: the decoded instruction, the working registers and the memory it
 * reaches, with the operand helpers the per-instruction semantics share. One per emulation, confined to the
 * thread that runs it.
 */
final class MmioExecution {
    private final Instruction instruction;
    private final GprState regs;
    private final SpecialRegisters sregs;
    private final OperandMemory memory;

    MmioExecution(Instruction instruction, GprState regs, SpecialRegisters sregs, OperandMemory memory) {
        this.instruction = instruction;
        this.regs = regs;
        this.sregs = sregs;
        this.memory = memory;
    }

    Instruction instruction() { return instruction; }

    GprState regs() { return regs; }

    SpecialRegisters sregs() { return sregs; }

    OperandMemory memory() { return memory; }

    CpuMode mode() { return instruction.mode(); }

    int opcode() { return instruction.opcode(); }

    /** ModRM.reg as encoded: the "/digit" of group opcodes. */
    int extension() { return instruction.modRm().orElseThrow().reg(); }

    /** The operand-size attribute in bytes: 2, 4 or 8. */
    int operandBytes() { return instruction.operandSize() / 8; }

    /** For the many opcode pairs whose bit 0 selects a byte operand (0) or a full-size one (1). */
    int sizeByLowBit() { return (instruction.opcode() & 1) == 0 ? 1 : operandBytes(); }

    /** The first immediate, sign-extended from its encoding as the SDM's Ib/Iz operands are, then cut to {@code size}. */
    long immediate(int size) {
        return instruction.immediates().getFirst().value() & GprState.mask(size);
    }

    /** The register that ModRM.reg (with REX.R) names, at {@code size} bytes. */
    long registerOperand(int size) {
        return regs.readOperand(instruction.regField(), size, instruction.prefixes().hasRex());
    }

    void writeRegisterOperand(int size, long value) {
        regs.writeOperand(instruction.regField(), size, instruction.prefixes().hasRex(), value);
    }

    /** Replaces the six status flags by those in {@code flags}. */
    void setStatusFlags(long flags) {
        regs.updateFlags(AluFlags.STATUS, flags);
    }

    boolean carryFlag() { return (regs.rflags() & AluFlags.CF) != 0; }

    /** The instruction is done: RIP moves past it. */
    void retire() {
        regs.rip(mode().maskInstructionPointer(regs.rip() + instruction.length()));
    }

    UnsupportedMmioSignal unsupported(String why) {
        return new UnsupportedMmioSignal(why);
    }
}
