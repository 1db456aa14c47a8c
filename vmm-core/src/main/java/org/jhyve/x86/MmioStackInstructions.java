package org.jhyve.x86;

/**
 * PUSH m (FF /6) and POP m (8F /0) with the memory operand at the faulting address and the stack in RAM
 * (SDM Vol. 2 "PUSH", "POP"). The operand size is 64 or 16 bits in 64-bit mode (the decoder applies the d64
 * rule), 16 or 32 elsewhere; the stack pointer is RSP in 64-bit mode, else ESP or SP by SS.B.
 *
 * <p>The stack side is checked before the device is touched, so a fault there leaves the device unread.
 */
final class MmioStackInstructions {
    private MmioStackInstructions() {}

    static void push(MmioExecution x) throws GuestExceptionSignal, UnsupportedMmioSignal {
        int size = x.operandBytes();
        int stackBytes = stackAddressBytes(x);
        long newSp = x.regs().read(GeneralRegister.RSP, stackBytes) - size & GprState.mask(stackBytes);
        long top = x.memory().linear(SegmentRegister.SS, newSp);
        x.memory().checkWritable(SegmentRegister.SS, top, size);
        long value = x.memory().readFaulting(size);
        x.memory().write(SegmentRegister.SS, top, size, value);
        x.regs().write(GeneralRegister.RSP, stackBytes, newSp);
        x.retire();
    }

    /** The faulting address is the destination as the CPU computed it, after incrementing RSP. */
    static void pop(MmioExecution x) throws GuestExceptionSignal, UnsupportedMmioSignal {
        if (x.extension() != 0) throw x.unsupported("8F /" + x.extension() + " is not POP");
        int size = x.operandBytes();
        int stackBytes = stackAddressBytes(x);
        long sp = x.regs().read(GeneralRegister.RSP, stackBytes);
        long value = x.memory().read(SegmentRegister.SS, x.memory().linear(SegmentRegister.SS, sp), size);
        x.memory().writeFaulting(size, value);
        x.regs().write(GeneralRegister.RSP, stackBytes, sp + size);
        x.retire();
    }

    private static int stackAddressBytes(MmioExecution x) {
        if (x.mode().is64Bit()) return 8;
        return x.sregs().ss().db() ? 4 : 2;
    }
}
