package org.jhyve.x86;

import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;

/**
 * Where an instruction's memory operand is: the offset within its segment and the linear address
 * (SDM Vol. 1 §3.7.5 "Specifying an Offset", Vol. 3A §3.4 "Logical and Linear Addresses").
 *
 * <p>The offset is {@code base + index*scale + displacement} (or next RIP + displacement) wrapped to the
 * address size. The linear address adds the segment base: in 64-bit mode only FS and GS have one
 * (Vol. 3A §3.4.4), elsewhere the base of the default or overridden segment, and outside 64-bit mode the
 * sum wraps at 32 bits. Segment limits and access rights are not checked.
 *
 * @param segment the segment the access goes through
 * @param offset  the effective address within the segment
 * @param linear  the linear address, ready for paging
 */
public record EffectiveAddress(SegmentRegister segment, long offset, long linear) {
    /** CR4.LA57: five-level paging, 57-bit linear addresses. */
    private static final long CR4_LA57 = 1L << 12;

    /**
     * The address of {@code instruction}'s memory operand, with {@code regs} and {@code sregs} as they were when
     * the instruction started (RIP pointing at it).
     *
     * @throws IllegalArgumentException if the instruction has no memory operand
     */
    public static EffectiveAddress of(Instruction instruction, Registers regs, SpecialRegisters sregs) {
        MemoryOperand m = instruction.memoryOperand().orElseThrow(
                () -> new IllegalArgumentException(instruction.hex() + " has no memory operand"));
        long offset;
        if (m.ripRelative()) {
            // RIP-relative addressing counts from the next instruction (Vol. 2 §2.2.1.6).
            offset = regs.rip() + instruction.length() + m.displacement();
        } else {
            offset = m.displacement();
            if (m.base().isPresent()) offset += m.base().get().read(regs);
            if (m.index().isPresent()) offset += m.index().get().read(regs) * m.scale();
        }
        offset &= mask(m.addressSize());
        long linear = instruction.mode().maskLinearAddress(segmentBase(instruction.mode(), m.segment(), sregs) + offset);
        return new EffectiveAddress(m.segment(), offset, linear);
    }

    /** In 64-bit mode CS, DS, ES and SS are treated as based at 0 whatever their descriptor caches say. */
    static long segmentBase(CpuMode mode, SegmentRegister segment, SpecialRegisters sregs) {
        if (mode.is64Bit() && segment != SegmentRegister.FS && segment != SegmentRegister.GS) return 0;
        return segment.of(sregs).base();
    }

    private static long mask(int addressSize) {
        return addressSize == 64 ? -1L : (1L << addressSize) - 1;
    }

    /**
     * True if {@code linear} is canonical for the paging mode: 48-bit, or 57-bit with CR4.LA57 (Vol. 3A §4.1.1,
     * §3.3.7.1). A data access to a non-canonical address raises #GP(0), or #SS(0) through SS.
     */
    public static boolean isCanonical(long linear, SpecialRegisters sregs) {
        int bits = (sregs.cr4() & CR4_LA57) != 0 ? 57 : 48;
        int unused = 64 - bits;
        return linear << unused >> unused == linear;
    }
}
