package org.jhyve.x86;

/**
 * STOS (AAH/ABH) and MOVS (A4H/A5H), with or without a REP prefix (SDM Vol. 2 "STOS", "MOVS", "REP").
 *
 * <p>RSI, RDI and RCX are used at the address size (67H toggles it) and written back at that size, so a 32-bit
 * update zero-extends and a 16-bit one keeps the upper bits. RFLAGS.DF = 1 walks down. The source of MOVS is
 * DS:rSI (the segment can be overridden), the destination always ES:rDI. Each side goes to RAM when it maps
 * to RAM and to the bus otherwise, so MMIO to RAM, RAM to MMIO and MMIO to MMIO all work.
 *
 * <p>A REP prefix (F3H, or F2H, which these instructions treat alike) repeats one iteration per call, as
 * xhyve does: RCX is decremented and RIP stays on the instruction while it is not zero, so the guest runs the
 * instruction again and the next iteration exits again if it still reaches MMIO (or runs at native speed if
 * it does not). An interrupt may be taken between iterations, as on a CPU. With RCX = 0 it does nothing and
 * RIP moves on.
 */
final class MmioStringInstructions {
    private MmioStringInstructions() {}

    static void execute(MmioExecution x) throws GuestExceptionSignal, UnsupportedMmioSignal {
        Instruction insn = x.instruction();
        GprState regs = x.regs();
        int addressBytes = insn.addressSize() / 8;
        boolean repeated = insn.prefixes().repeat() != RepeatPrefix.NONE;
        long count = regs.read(GeneralRegister.RCX, addressBytes);
        if (repeated && count == 0) {
            x.retire();
            return;
        }
        int size = x.sizeByLowBit();
        OperandMemory memory = x.memory();
        long destination = memory.linear(SegmentRegister.ES, regs.read(GeneralRegister.RDI, addressBytes));
        if (x.opcode() == 0xAA || x.opcode() == 0xAB) {
            memory.write(SegmentRegister.ES, destination, size, regs.read(GeneralRegister.RAX, size));
        } else {
            SegmentRegister sourceSegment = insn.prefixes().segmentOverride().orElse(SegmentRegister.DS);
            long source = memory.linear(sourceSegment, regs.read(GeneralRegister.RSI, addressBytes));
            memory.checkWritable(SegmentRegister.ES, destination, size);
            memory.write(SegmentRegister.ES, destination, size, memory.read(sourceSegment, source, size));
            step(regs, GeneralRegister.RSI, addressBytes, size);
        }
        step(regs, GeneralRegister.RDI, addressBytes, size);
        if (repeated) {
            regs.write(GeneralRegister.RCX, addressBytes, count - 1);
            if (count - 1 != 0) return;
        }
        x.retire();
    }

    private static void step(GprState regs, GeneralRegister reg, int addressBytes, int size) {
        long delta = (regs.rflags() & AluFlags.DF) != 0 ? -size : size;
        regs.write(reg, addressBytes, regs.read(reg, addressBytes) + delta);
    }

}
