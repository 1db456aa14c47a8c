package org.jhyve.x86;

import java.util.Optional;

/**
 * The instructions {@link InstructionFallback} can complete, recognised with the encoding rules a CPU applies
 * (a LOCK prefix or a wrong mandatory prefix makes them something else, or #UD), so anything not matching
 * exactly is left alone.
 */
enum CompletableInstruction {
    /** CC: INT3, the one-byte breakpoint (SDM Vol. 2 "INT n/INTO/INT3/INT1"). */
    INT3("int3"),
    /** CD ib: INT n, the software interrupt (KVM's emulator on hosts without VMX/SVM refuses it in 64-bit mode). */
    INT_N("int"),
    /** 9B: WAIT/FWAIT. */
    FWAIT("fwait"),
    /** NP 0F AE /2, memory operand: LDMXCSR m32. */
    LDMXCSR("ldmxcsr"),
    /** NP 0F AE /3, memory operand: STMXCSR m32. */
    STMXCSR("stmxcsr"),
    /** VEX.LZ.0F.WIG AE /2, memory operand, vvvv = 1111b. */
    VLDMXCSR("vldmxcsr"),
    /** VEX.LZ.0F.WIG AE /3, memory operand, vvvv = 1111b. */
    VSTMXCSR("vstmxcsr");

    private final String mnemonic;

    CompletableInstruction(String mnemonic) { this.mnemonic = mnemonic; }

    String mnemonic() { return mnemonic; }

    boolean isVex() { return this == VLDMXCSR || this == VSTMXCSR; }

    static Optional<CompletableInstruction> identify(Instruction insn) {
        // LOCK is #UD on every one of these (SDM Vol. 2 "LOCK": only read-modify-write memory instructions).
        if (insn.prefixes().lock()) return Optional.empty();
        if (insn.vex().isPresent()) return identifyVex(insn, insn.vex().get());
        if (insn.map() == OpcodeMap.PRIMARY) {
            return switch (insn.opcode()) {
                case 0xCC -> Optional.of(INT3);
                case 0xCD -> Optional.of(INT_N);
                case 0x9B -> Optional.of(FWAIT);
                default -> Optional.empty();
            };
        }
        if (isMxcsrSlot(insn) && insn.mandatoryPrefix() == MandatoryPrefix.NONE) {
            return mxcsrByReg(insn, LDMXCSR, STMXCSR);
        }
        return Optional.empty();
    }

    private static Optional<CompletableInstruction> identifyVex(Instruction insn, Vex vex) {
        if (!isMxcsrSlot(insn) || vex.prefix() != MandatoryPrefix.NONE || vex.l256() || vex.vvvv() != 0) {
            return Optional.empty();
        }
        return mxcsrByReg(insn, VLDMXCSR, VSTMXCSR);
    }

    /** 0F AE with a memory operand (the register forms of /2 and /3 are other instructions or #UD). */
    private static boolean isMxcsrSlot(Instruction insn) {
        return insn.map() == OpcodeMap.MAP_0F && insn.opcode() == 0xAE && insn.memoryOperand().isPresent();
    }

    private static Optional<CompletableInstruction> mxcsrByReg(Instruction insn, CompletableInstruction load,
                                                               CompletableInstruction store) {
        return switch (insn.modRm().orElseThrow().reg()) {
            case 2 -> Optional.of(load);
            case 3 -> Optional.of(store);
            default -> Optional.empty();
        };
    }
}
