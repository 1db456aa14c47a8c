package org.jhyve.x86;

import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instruction a vCPU stopped at, the state it stopped with, and the two ways to finish it: retire it
 * (RIP moves past it) or fault (RIP stays and an exception is queued).
 */
record InstructionContext(Vcpu vcpu, LinearMemory memory, Instruction instruction, Registers regs,
                          SpecialRegisters sregs) {
    private static final Logger log = LoggerFactory.getLogger(InstructionContext.class);

    static final int VECTOR_BP = 3;
    static final int VECTOR_UD = 6;
    static final int VECTOR_NM = 7;
    static final int VECTOR_SS = 12;
    static final int VECTOR_GP = 13;
    static final int VECTOR_MF = 16;
    static final int NO_ERROR_CODE = -1;

    CpuMode mode() { return instruction.mode(); }

    /** RIP of the instruction after this one, wrapped to the mode's instruction-pointer width. */
    long nextRip() {
        return mode().maskInstructionPointer(regs.rip() + instruction.length());
    }

    /** The instruction completed: move RIP past it. */
    InstructionFallback.Result retire(String mnemonic) {
        vcpu.setRegisters(regs.withRip(nextRip()));
        return new InstructionFallback.Result.Completed(mnemonic);
    }

    /**
     * The instruction completed and raises a trap, which reports the address after it (SDM Vol. 3A §6.5,
     * "Traps"). RIP is written first because KVM_SET_REGS discards an exception queued before it.
     */
    InstructionFallback.Result retireWithTrap(String mnemonic, int vector) {
        vcpu.setRegisters(regs.withRip(nextRip()));
        vcpu.injectException(vector, NO_ERROR_CODE);
        return new InstructionFallback.Result.Completed(mnemonic);
    }

    /** The instruction faults: RIP stays on it, as a fault reports (SDM Vol. 3A §6.5, "Faults"). */
    InstructionFallback.Result fault(String mnemonic, int vector, int errorCode, String why) {
        log.debug("{} at RIP 0x{} in {}: injecting vector {} ({})", mnemonic, Long.toHexString(regs.rip()),
                mode().description(), vector, why);
        vcpu.injectException(vector, errorCode);
        return new InstructionFallback.Result.Completed(mnemonic);
    }

    InstructionFallback.Result unsupported(String mnemonic, String why) {
        return new InstructionFallback.Result.Unsupported(String.format("cannot complete instruction %s (%s) at RIP 0x%x in %s: %s",
                instruction.hex(), mnemonic, regs.rip(), mode().description(), why));
    }
}
