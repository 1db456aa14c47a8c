package org.jhyve.irqchip;

import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;

/**
 * The register state a startup IPI leaves a processor in (SDM vol. 3, 9.1.1 and 9.4.4): real mode, CS selector
 * {@code vector << 8} with base {@code vector << 12}, IP 0, the other segments at 0 with 64 KiB limits, caches and
 * paging off. The MTRRs, the FPU and the MSRs are as the processor's INIT left them.
 */
final class ResetState {
    private ResetState() {}

    private static final long CR0_AFTER_INIT = 0x6000_0010L; // CD, NW, ET
    private static final int CODE = 0xb; // execute/read, accessed
    private static final int DATA = 0x3; // read/write, accessed

    static SpecialRegisters afterStartup(SpecialRegisters current, int vector) {
        Segment cs = Segment.realMode(vector << 8, CODE);
        Segment data = Segment.realMode(0, DATA);
        Segment tr = new Segment(0, 0xffff, 0, 0xb, true, 0, false, false, false, false, false, false);
        Segment ldt = new Segment(0, 0xffff, 0, 0x2, true, 0, false, false, false, false, false, false);
        return new SpecialRegisters(cs, data, data, data, data, data, tr, ldt, new DescriptorTable(0, 0xffff),
                new DescriptorTable(0, 0xffff), CR0_AFTER_INIT, 0, 0, 0, 0, 0, current.apicBase());
    }

    static Registers registersAfterStartup() {
        return new Registers(0, 0, 0, 0x600, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2);
    }
}
