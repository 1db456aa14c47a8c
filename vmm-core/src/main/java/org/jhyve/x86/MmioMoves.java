package org.jhyve.x86;

/**
 * MOV in its memory forms (88H-8BH, C6H/C7H /0, A0H-A3H), MOVZX (0F B6/B7), MOVSX (0F BE/BF) and MOVSXD (63H
 * in 64-bit mode), with the faulting address as the memory operand (SDM Vol. 2 "MOV", "MOVZX", "MOVSX/MOVSXD").
 * None of them changes a flag.
 */
final class MmioMoves {
    private MmioMoves() {}

    static void mov(MmioExecution x) throws UnsupportedMmioSignal {
        OperandMemory memory = x.memory();
        int size = x.sizeByLowBit();
        switch (x.opcode()) {
            case 0x88, 0x89 -> memory.writeFaulting(size, x.registerOperand(size));
            case 0x8A, 0x8B -> x.writeRegisterOperand(size, memory.readFaulting(size));
            case 0xC6, 0xC7 -> {
                // The other ModRM.reg values are #UD with a memory operand (C6/C7 /7 are XABORT/XBEGIN, register forms).
                if (x.extension() != 0) throw x.unsupported("C6/C7 with ModRM.reg " + x.extension() + " is not MOV");
                memory.writeFaulting(size, x.immediate(size));
            }
            // AL/rAX and a moffs: no ModRM, and AL is never AH whatever the prefixes.
            case 0xA0, 0xA1 -> x.regs().write(GeneralRegister.RAX, size, memory.readFaulting(size));
            case 0xA2, 0xA3 -> memory.writeFaulting(size, x.regs().read(GeneralRegister.RAX, size));
            default -> throw new IllegalArgumentException("not a MOV opcode: " + x.opcode());
        }
        x.retire();
    }

    /** 0F B6/B7 (zero-extend) and 0F BE/BF (sign-extend) from a byte (bit 0 clear) or a word. */
    static void extend(MmioExecution x) {
        int sourceSize = (x.opcode() & 1) == 0 ? 1 : 2;
        long value = x.memory().readFaulting(sourceSize);
        if (x.opcode() >= 0xBE) value = signExtend(value, sourceSize);
        x.writeRegisterOperand(x.operandBytes(), value);
        x.retire();
    }

    /**
     * 63H in 64-bit mode: with REX.W a doubleword sign-extended to 64 bits; without, a plain move of the
     * operand size (the SDM's discouraged "MOVSXD r32, r/m32", which zero-extends like any 32-bit write).
     */
    static void movsxd(MmioExecution x) throws UnsupportedMmioSignal {
        if (!x.mode().is64Bit()) throw x.unsupported("63H outside 64-bit mode is ARPL");
        int size = x.operandBytes();
        long value = size == 8 ? signExtend(x.memory().readFaulting(4), 4) : x.memory().readFaulting(size);
        x.writeRegisterOperand(size, value);
        x.retire();
    }

    static long signExtend(long value, int size) {
        int unused = 64 - 8 * size;
        return value << unused >> unused;
    }
}
