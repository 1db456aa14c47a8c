package org.jhyve.firmware;

/**
 * Where jhyve's loaders put things below 1 MiB: the one place these addresses are written down.
 * The layout follows Firecracker's (GDT at 0x500, stack top 0x8ff0, page tables from 0x9000), so the
 * Linux loaders can reuse it unchanged.
 *
 * <pre>
 *   0x0000 - 0x04ff   real-mode IVT and BIOS data area: left alone
 *   0x0500 - 0x052f   GDT (6 descriptors, see LongModeSetup)
 *   0x0540            IDT base (limit 0: no usable IDT until the guest loads its own)
 *   0x0580 - 0x05e7   64-bit TSS (zeroed), so that TR is usable as KVM requires
 *   0x0600 - 0x6fff   real-mode stack (grows down from 0x7000)
 *   0x7000 - 0x7bff   parameters the host writes for guest programs (Linux's zero page, later)
 *   0x7c00 - ...      boot sector, loaded whole (up to the EBDA at 0x9fc00)
 *   0x8000 - 0x8fef   long-mode stack (grows down from 0x8ff0)
 *   0x9000            PML4
 *   0xa000            PDPT
 *   0xb000 - 0xefff   4 page directories: 2 MiB pages identity-mapping 0-4 GiB
 * </pre>
 * The boot-sector and long-mode layouts are never used together: a boot sector gets no tables.
 */
public final class LowMemoryMap {
    public static final long GDT = 0x500;
    public static final long IDT = 0x540;
    public static final long TSS = 0x580;
    /** Size of a 64-bit TSS; TR's limit is this minus one. */
    public static final int TSS_SIZE = 0x68;
    /** First byte past the real-mode stack: SP starts here so pushes stay clear of the parameter page. */
    public static final long REAL_MODE_STACK_TOP = 0x7000;
    /** Host-written parameters for guest programs (e.g. exit-loop's iteration count). */
    public static final long PARAMETERS = 0x7000;
    /** Where a BIOS puts the boot sector, and where jhyve starts it (0000:7c00). */
    public static final long BOOT_SECTOR = 0x7c00;
    /** The extended BIOS data area starts here on a PC: a boot sector image must end below it. */
    public static final long EBDA = 0x9fc00;
    /** The first megabyte ends here; a kernel goes above it. */
    public static final long HIGH_MEMORY = 0x100000;
    /** The Linux boot protocol's zero page (struct boot_params) for a bzImage. */
    public static final long ZERO_PAGE = 0x1000;
    /** PVH start info, module list and memory map, in the free page below the parameter page. */
    public static final long PVH_START_INFO = 0x6000;
    public static final long PVH_MODULES = 0x6040;
    public static final long PVH_MEMMAP = 0x6100;
    public static final int PVH_MEMMAP_MAX = (0x7000 - 0x6100) / 24;
    /** The kernel command line (Linux copies it early; x86 takes at most 2048 bytes). */
    public static final long COMMAND_LINE = 0x20000;
    public static final int COMMAND_LINE_MAX = 2048;
    /** RSP for a program started in long mode; 16-byte aligned, as the x86-64 ABI wants at entry. */
    public static final long LONG_MODE_STACK_TOP = 0x8ff0;
    public static final long PML4 = 0x9000;
    public static final long PDPT = 0xa000;
    /** The first of {@link #PAGE_DIRECTORY_COUNT} consecutive page directories. */
    public static final long PAGE_DIRECTORIES = 0xb000;
    public static final int PAGE_DIRECTORY_COUNT = 4;
    /** First byte past the page tables. */
    public static final long PAGE_TABLES_END = PAGE_DIRECTORIES + PAGE_DIRECTORY_COUNT * 0x1000L;
    /** [BOOT_TABLES_START, PAGE_TABLES_END) holds jhyve's long-mode tables: a loaded program may not overlap it. */
    public static final long BOOT_TABLES_START = GDT;
    /** How much of the guest-physical space the identity map covers. */
    public static final long IDENTITY_MAPPED = 4L << 30;

    private LowMemoryMap() {}
}
