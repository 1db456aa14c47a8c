package org.jhyve.x86;

/**
 * The arithmetic, logic and bit-test instructions with a memory operand at the faulting address: ADD, OR,
 * ADC, SBB, AND, SUB, XOR, CMP (00H-3BH and group 1, 80H-83H), TEST (84H/85H, F6H/F7H /0), and BT, BTS, BTR,
 * BTC (0F A3/AB/B3/BB, 0F BA /4-/7). Those that write memory read the device, compute and write the result
 * back, as two bus accesses.
 */
final class MmioArithmetic {
    private MmioArithmetic() {}

    /** 00H-3BH with bits 2:1 of the opcode below 2: bit 0 byte/full size, bit 1 register destination. */
    static void registerForm(MmioExecution x) {
        AluOperation op = AluOperation.ofEncoding(x.opcode() >> 3);
        int size = x.sizeByLowBit();
        long memoryValue = x.memory().readFaulting(size);
        long registerValue = x.registerOperand(size);
        boolean toRegister = (x.opcode() & 2) != 0;
        AluFlags.Outcome out = toRegister
                ? AluFlags.compute(op, registerValue, memoryValue, size, x.carryFlag())
                : AluFlags.compute(op, memoryValue, registerValue, size, x.carryFlag());
        if (op.writesResult()) {
            if (toRegister) x.writeRegisterOperand(size, out.value());
            else x.memory().writeFaulting(size, out.value());
        }
        x.setStatusFlags(out.flags());
        x.retire();
    }

    /** 80H (and its alias 82H outside 64-bit mode) Eb,Ib; 81H Ev,Iz; 83H Ev,Ib sign-extended. */
    static void immediateForm(MmioExecution x) {
        AluOperation op = AluOperation.ofEncoding(x.extension());
        int size = x.opcode() == 0x80 || x.opcode() == 0x82 ? 1 : x.operandBytes();
        long memoryValue = x.memory().readFaulting(size);
        AluFlags.Outcome out = AluFlags.compute(op, memoryValue, x.immediate(size), size, x.carryFlag());
        if (op.writesResult()) x.memory().writeFaulting(size, out.value());
        x.setStatusFlags(out.flags());
        x.retire();
    }

    /** 84H/85H TEST Ev,Gv and F6H/F7H /0 TEST Ev,Iz: AND's flags, nothing written. */
    static void test(MmioExecution x) throws UnsupportedMmioSignal {
        int size = x.sizeByLowBit();
        long other;
        if (x.opcode() == 0x84 || x.opcode() == 0x85) {
            other = x.registerOperand(size);
        } else if (x.extension() == 0) {
            other = x.immediate(size);
        } else {
            throw x.unsupported("group 3 /" + x.extension() + " is not TEST");
        }
        x.setStatusFlags(AluFlags.logic(x.memory().readFaulting(size) & other, size).flags());
        x.retire();
    }

    /**
     * BT/BTS/BTR/BTC: CF gets the bit, then the write forms set, clear or flip it. ZF is unchanged and OF, SF,
     * AF, PF are undefined (left unchanged here). The bit offset is taken modulo the operand width: with an
     * immediate that is the architectural rule; with a register, the CPU also moves the address by whole
     * operands, and the faulting address already is that moved address.
     */
    static void bitTest(MmioExecution x) throws UnsupportedMmioSignal {
        int size = x.operandBytes();
        int bits = 8 * size;
        int kind;
        long offset;
        if (x.opcode() == 0xBA) {
            if (x.extension() < 4) throw x.unsupported("0F BA /" + x.extension() + " is undefined");
            kind = x.extension() - 4;
            offset = x.immediate(1);
        } else {
            kind = switch (x.opcode()) {
                case 0xA3 -> 0;
                case 0xAB -> 1;
                case 0xB3 -> 2;
                default -> 3;
            };
            offset = x.registerOperand(size);
        }
        long bit = 1L << (offset & bits - 1);
        long value = x.memory().readFaulting(size);
        x.regs().updateFlags(AluFlags.CF, (value & bit) != 0 ? AluFlags.CF : 0);
        switch (kind) {
            case 1 -> x.memory().writeFaulting(size, value | bit);
            case 2 -> x.memory().writeFaulting(size, value & ~bit);
            case 3 -> x.memory().writeFaulting(size, value ^ bit);
            default -> { }
        }
        x.retire();
    }
}
