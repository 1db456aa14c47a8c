package org.jhyve.hv;

/** Segment, control and descriptor-table registers (kvm_sregs without the interrupt bitmap). */
public record SpecialRegisters(Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss,
                               Segment tr, Segment ldt, DescriptorTable gdt, DescriptorTable idt,
                               long cr0, long cr2, long cr3, long cr4, long cr8, long efer, long apicBase) {
    public static final long CR0_PE = 1L;
    public static final long CR0_MP = 1L << 1;
    public static final long CR0_ET = 1L << 4;
    public static final long CR0_NE = 1L << 5;
    public static final long CR0_WP = 1L << 16;
    public static final long CR0_PG = 1L << 31;
    public static final long CR4_PAE = 1L << 5;
    public static final long EFER_SCE = 1L;
    public static final long EFER_LME = 1L << 8;
    public static final long EFER_LMA = 1L << 10;
    public static final long EFER_NXE = 1L << 11;

    /** True when the CPU is in long mode (IA-32e). */
    public boolean longMode() { return (efer & EFER_LMA) != 0; }

    /** True in protected mode (or long mode), false in real mode. */
    public boolean protectedMode() { return (cr0 & CR0_PE) != 0; }

    /** The same registers with FS replaced. */
    public SpecialRegisters withFs(Segment newFs) {
        return new SpecialRegisters(cs, ds, es, newFs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
    }

    /** The same registers with GS replaced. */
    public SpecialRegisters withGs(Segment newGs) {
        return new SpecialRegisters(cs, ds, es, fs, newGs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
    }
}
