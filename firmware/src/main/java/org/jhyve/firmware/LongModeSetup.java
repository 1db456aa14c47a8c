package org.jhyve.firmware;

import static org.jhyve.hv.SpecialRegisters.*;

import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.memory.GuestMemory;

/**
 * Puts the vCPU straight into 64-bit long mode, as a 64-bit boot protocol expects: a GDT, a TSS and
 * page tables identity-mapping the first 4 GiB with 2 MiB pages, at the addresses of {@link LowMemoryMap}.
 *
 * <p>The GDT follows the Linux boot protocol: {@code __BOOT_CS} = 0x10 (64-bit code) and
 * {@code __BOOT_DS} = 0x18 (flat data); 0x08 is a flat 32-bit code segment for the PVH entry, which
 * starts in 32-bit protected mode; 0x20 is the TSS. Interrupts stay off (RFLAGS.IF = 0) and the IDT is
 * empty: the guest installs its own before it enables them.
 */
public final class LongModeSetup {
    public static final int CODE32_SELECTOR = 0x08;
    public static final int CODE64_SELECTOR = 0x10;
    public static final int DATA_SELECTOR = 0x18;
    public static final int TSS_SELECTOR = 0x20;

    /** P (present) | RW (writable) | PS (2 MiB page) in a page-directory entry; P | RW in the tables above. */
    static final long PRESENT = 1, WRITABLE = 1 << 1, LARGE_PAGE = 1 << 7;
    private static final long TWO_MIB = 2L << 20;
    private static final int ENTRIES = 512;

    private LongModeSetup() {}

    /** The 32-bit flat code segment at 0x08, for loaders that start in protected mode (PVH). */
    public static Segment code32() { return Segment.code32(CODE32_SELECTOR); }

    public static Segment code64() { return Segment.code64(CODE64_SELECTOR); }

    public static Segment data() { return Segment.data(DATA_SELECTOR); }

    /**
     * The task register: a busy 64-bit TSS (type 11). Nothing here task-switches, but KVM (and VMX entry)
     * reject a vCPU whose TR is unusable.
     */
    public static Segment taskRegister() {
        return new Segment(LowMemoryMap.TSS, LowMemoryMap.TSS_SIZE - 1, TSS_SELECTOR, 0xb, true, 0,
                false, false, false, false, false, false);
    }

    /**
     * Writes the GDT, TSS and identity page tables into {@code memory} and returns the special registers
     * of a CPU in 64-bit mode at CPL 0 using them.
     */
    public static SpecialRegisters install(GuestMemory memory) {
        writeGdt(memory);
        memory.fill(LowMemoryMap.TSS, LowMemoryMap.TSS_SIZE, (byte) 0);
        writeIdentityPageTables(memory);
        return specialRegisters();
    }

    /** Writes the GDT and TSS only, for loaders that start with paging off and must leave the page-table pages to the kernel (Multiboot). */
    static void installGdtAndTss(GuestMemory memory) {
        writeGdt(memory);
        memory.fill(LowMemoryMap.TSS, LowMemoryMap.TSS_SIZE, (byte) 0);
    }

    /** The long-mode special registers alone, without touching memory (the tables must be there already). */
    public static SpecialRegisters specialRegisters() {
        Segment data = data();
        Segment ldt = new Segment(0, 0, 0, 0x2, false, 0, false, false, false, false, false, true);
        return new SpecialRegisters(code64(), data, data, data, data, data, taskRegister(), ldt,
                new DescriptorTable(LowMemoryMap.GDT, gdtEntries().length * 8 - 1),
                new DescriptorTable(LowMemoryMap.IDT, 0),
                CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG, 0, LowMemoryMap.PML4, CR4_PAE, 0,
                EFER_LME | EFER_LMA, BootProcessor.APIC_BASE);
    }

    /** The GDT as 8-byte descriptors, indexed by selector / 8; the TSS takes two slots. */
    static long[] gdtEntries() {
        long[] tss = SegmentDescriptor.encodeSystem64(taskRegister());
        return new long[] {
            0, // the null descriptor
            SegmentDescriptor.encode(code32()),
            SegmentDescriptor.encode(code64()),
            SegmentDescriptor.encode(data()),
            tss[0], tss[1],
        };
    }

    private static void writeGdt(GuestMemory memory) {
        long[] entries = gdtEntries();
        for (int i = 0; i < entries.length; i++) memory.writeLong(LowMemoryMap.GDT + 8L * i, entries[i]);
    }

    /** PML4[0] → PDPT; PDPT[0..3] → four page directories; each PD entry maps 2 MiB onto itself. */
    private static void writeIdentityPageTables(GuestMemory memory) {
        memory.fill(LowMemoryMap.PML4, LowMemoryMap.PAGE_TABLES_END - LowMemoryMap.PML4, (byte) 0);
        memory.writeLong(LowMemoryMap.PML4, LowMemoryMap.PDPT | WRITABLE | PRESENT);
        for (int pd = 0; pd < LowMemoryMap.PAGE_DIRECTORY_COUNT; pd++) {
            long directory = LowMemoryMap.PAGE_DIRECTORIES + 0x1000L * pd;
            memory.writeLong(LowMemoryMap.PDPT + 8L * pd, directory | WRITABLE | PRESENT);
            for (int i = 0; i < ENTRIES; i++) {
                long physical = ((long) pd * ENTRIES + i) * TWO_MIB;
                memory.writeLong(directory + 8L * i, physical | LARGE_PAGE | WRITABLE | PRESENT);
            }
        }
    }
}
