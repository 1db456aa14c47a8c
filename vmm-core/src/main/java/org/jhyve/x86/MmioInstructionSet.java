package org.jhyve.x86;

/**
 * Which instructions the MMIO emulator carries out, and the encoding checks before any of them runs: no VEX,
 * a memory operand where the instruction has a ModRM, and LOCK only on a read-modify-write of memory (else
 * #UD, as on a CPU).
 */
final class MmioInstructionSet {
    private MmioInstructionSet() {}

    static void execute(MmioExecution x) throws GuestExceptionSignal, UnsupportedMmioSignal {
        Instruction insn = x.instruction();
        if (insn.isVexEncoded()) throw x.unsupported("VEX-encoded instructions are not emulated on MMIO");
        if (insn.modRm().isPresent() && insn.memoryOperand().isEmpty()) {
            throw x.unsupported("the register form has no memory operand");
        }
        if (insn.prefixes().lock() && !isLockable(insn)) {
            throw new GuestExceptionSignal(MmioResult.Fault.VECTOR_UD, -1, 0, "LOCK on " + insn.opcodeText());
        }
        switch (insn.map()) {
            case PRIMARY -> primary(x, insn.opcode());
            case MAP_0F -> secondary(x, insn.opcode());
            default -> throw x.unsupported("no emulation for " + insn.opcodeText());
        }
    }

    private static void primary(MmioExecution x, int opcode) throws GuestExceptionSignal, UnsupportedMmioSignal {
        if (opcode < 0x40 && (opcode & 7) < 4) {
            MmioArithmetic.registerForm(x);
            return;
        }
        switch (opcode) {
            case 0x80, 0x81, 0x82, 0x83 -> MmioArithmetic.immediateForm(x);
            case 0x84, 0x85, 0xF6, 0xF7 -> MmioArithmetic.test(x);
            case 0x88, 0x89, 0x8A, 0x8B, 0xC6, 0xC7, 0xA0, 0xA1, 0xA2, 0xA3 -> MmioMoves.mov(x);
            case 0x63 -> MmioMoves.movsxd(x);
            case 0xA4, 0xA5, 0xAA, 0xAB -> MmioStringInstructions.execute(x);
            case 0x8F -> MmioStackInstructions.pop(x);
            case 0xFF -> {
                if (x.extension() != 6) throw x.unsupported("FF /" + x.extension() + " is not emulated on MMIO");
                MmioStackInstructions.push(x);
            }
            default -> throw x.unsupported("no emulation for " + x.instruction().opcodeText());
        }
    }

    private static void secondary(MmioExecution x, int opcode) throws UnsupportedMmioSignal {
        switch (opcode) {
            case 0xB6, 0xB7, 0xBE, 0xBF -> MmioMoves.extend(x);
            case 0xA3, 0xAB, 0xB3, 0xBB, 0xBA -> MmioArithmetic.bitTest(x);
            default -> throw x.unsupported("no emulation for " + x.instruction().opcodeText());
        }
    }

    /** SDM Vol. 2 "LOCK": ADD, ADC, AND, BTC, BTR, BTS, OR, SBB, SUB, XOR with a memory destination (and others not emulated). */
    private static boolean isLockable(Instruction insn) {
        int op = insn.opcode();
        if (insn.map() == OpcodeMap.MAP_0F) {
            return op == 0xAB || op == 0xB3 || op == 0xBB || op == 0xBA && insn.modRm().orElseThrow().reg() >= 5;
        }
        if (insn.map() != OpcodeMap.PRIMARY) return false;
        if (op < 0x40 && (op & 7) < 2) return op >> 3 != 7;
        return op >= 0x80 && op <= 0x83 && insn.modRm().orElseThrow().reg() != 7;
    }

    /**
     * The instructions whose memory operand, computed from the registers as they are before the instruction,
     * is where the CPU accessed: all but POP (which adds to RSP first), bit tests with a register offset (which
     * move the address by the offset) and the string instructions (whose addresses come from rSI/rDI).
     */
    static boolean operandAddressIsPlain(Instruction insn) {
        if (insn.memoryOperand().isEmpty()) return false;
        int op = insn.opcode();
        if (insn.map() == OpcodeMap.MAP_0F) return op != 0xA3 && op != 0xAB && op != 0xB3 && op != 0xBB;
        return op != 0x8F;
    }
}
