package org.jhyve.x86;

import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;

/** Special-register sets for each mode, as a kernel would have them, for tests. */
final class CpuStates {
    static final long CR0_TS = 1L << 3;
    static final long CR4_OSFXSR = 1L << 9;
    static final long CR4_OSXMMEXCPT = 1L << 10;
    static final long CR4_OSXSAVE = 1L << 18;

    private static final long CR0_KERNEL = SpecialRegisters.CR0_PE | SpecialRegisters.CR0_MP | SpecialRegisters.CR0_ET
            | SpecialRegisters.CR0_NE | SpecialRegisters.CR0_WP | SpecialRegisters.CR0_PG;
    private static final long CR4_KERNEL = SpecialRegisters.CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
    private static final DescriptorTable NO_TABLE = new DescriptorTable(0, 0xffff);

    private CpuStates() {}

    /** 64-bit kernel mode with flat segments. */
    static SpecialRegisters longMode() {
        Segment data = Segment.data(0x18);
        return new SpecialRegisters(Segment.code64(0x10), data, data, data, data, data, data, data, NO_TABLE, NO_TABLE,
                CR0_KERNEL, 0, 0x1000, CR4_KERNEL, 0,
                SpecialRegisters.EFER_SCE | SpecialRegisters.EFER_LME | SpecialRegisters.EFER_LMA | SpecialRegisters.EFER_NXE,
                0xfee00000L);
    }

    /** 32-bit protected mode, flat except for the given DS base. */
    static SpecialRegisters protected32(long dsBase) {
        Segment data = Segment.data(0x18);
        Segment ds = new Segment(dsBase, 0xffffffff, 0x20, 0x3, true, 0, true, true, false, true, false, false);
        return new SpecialRegisters(Segment.code32(0x10), ds, data, data, data, data, data, data, NO_TABLE, NO_TABLE,
                SpecialRegisters.CR0_PE | SpecialRegisters.CR0_ET | SpecialRegisters.CR0_NE, 0, 0, CR4_OSFXSR, 0, 0, 0);
    }

    /** Real mode with CS/DS/ES/SS at the given selectors and SSE enabled in CR4. */
    static SpecialRegisters realMode(int cs, int ds, int ss) {
        Segment data = Segment.realMode(ds, 0x3);
        return new SpecialRegisters(Segment.realMode(cs, 0xb), data, data, data, data, Segment.realMode(ss, 0x3),
                data, data, NO_TABLE, NO_TABLE, SpecialRegisters.CR0_ET | SpecialRegisters.CR0_NE, 0, 0, CR4_OSFXSR, 0, 0, 0);
    }

    static SpecialRegisters withCr0(SpecialRegisters s, long cr0) {
        return new SpecialRegisters(s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(), s.idt(),
                cr0, s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase());
    }

    static SpecialRegisters withCr4(SpecialRegisters s, long cr4) {
        return new SpecialRegisters(s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(), s.idt(),
                s.cr0(), s.cr2(), s.cr3(), cr4, s.cr8(), s.efer(), s.apicBase());
    }

    static SpecialRegisters withFsBase(SpecialRegisters s, long base) {
        Segment fs = new Segment(base, 0xffffffff, 0, 0x3, true, 0, true, true, false, true, false, false);
        return new SpecialRegisters(s.cs(), s.ds(), s.es(), fs, s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(), s.idt(),
                s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase());
    }

    static SpecialRegisters withSsBase(SpecialRegisters s, long base) {
        Segment ss = new Segment(base, 0xffffffff, 0x18, 0x3, true, 0, true, true, false, true, false, false);
        return new SpecialRegisters(s.cs(), s.ds(), s.es(), s.fs(), s.gs(), ss, s.tr(), s.ldt(), s.gdt(), s.idt(),
                s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase());
    }
}
