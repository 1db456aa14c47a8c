package org.jhyve.firmware;

import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;

/**
 * The special registers of a CPU in real mode, as a BIOS leaves it when it jumps to a boot sector.
 * Everything is set explicitly: KVM's reset state has CS at base 0xffff0000 (the reset vector), which is
 * not where a boot sector runs.
 */
public final class RealModeSetup {
    /** Code segment type: execute/read, accessed. */
    private static final int CODE = 0xb;
    /** Data segment type: read/write, accessed. */
    private static final int DATA = 0x3;

    private RealModeSetup() {}

    /**
     * Real mode with CS and every data segment at {@code segment} (base = segment × 16, 64 KiB limits),
     * CR0 = ET only (no protection, no paging), the IVT at 0 (IDTR limit 0x3ff).
     */
    public static SpecialRegisters specialRegisters(int segment) {
        if (segment < 0 || segment > 0xffff) throw new IllegalArgumentException("real-mode segment out of range: " + segment);
        Segment code = Segment.realMode(segment, CODE);
        Segment data = Segment.realMode(segment, DATA);
        // TR and LDTR as after reset: present, base 0, limit 0xffff; KVM wants TR usable even in real mode.
        Segment tr = new Segment(0, 0xffff, 0, 0xb, true, 0, false, false, false, false, false, false);
        Segment ldt = new Segment(0, 0xffff, 0, 0x2, true, 0, false, false, false, false, false, false);
        return new SpecialRegisters(code, data, data, data, data, data, tr, ldt,
                new DescriptorTable(0, 0xffff), new DescriptorTable(0, 0x3ff),
                SpecialRegisters.CR0_ET, 0, 0, 0, 0, 0, BootProcessor.APIC_BASE);
    }
}
