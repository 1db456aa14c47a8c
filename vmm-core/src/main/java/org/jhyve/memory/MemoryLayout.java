package org.jhyve.memory;

import java.util.List;

/**
 * Where guest RAM goes in the guest-physical address space, as on a real PC: RAM from 0 up to the
 * start of the 32-bit PCI hole at 3 GiB, and whatever does not fit there again from 4 GiB.
 * The hole keeps room for PCI BARs, the IOAPIC (0xFEC00000) and the local APIC (0xFEE00000).
 */
public final class MemoryLayout {
    /** Start of the 32-bit MMIO hole. */
    public static final long PCI_HOLE_START = 3L << 30;
    /** First address above the hole. */
    public static final long HIGH_RAM_START = 4L << 30;
    /** Where 32-bit PCI BARs are allocated from (inside the hole, below the IOAPIC). */
    public static final long PCI_MMIO32_BASE = 0xC000_0000L;
    public static final long PCI_MMIO32_END = 0xFEC0_0000L;

    /** One range of guest RAM. */
    public record Range(long guestAddress, long size) {
        public long end() { return guestAddress + size; }
    }

    private MemoryLayout() {}

    /** The RAM ranges for a guest of {@code size} bytes (a positive multiple of 4 KiB). */
    public static List<Range> ramRanges(long size) {
        if (size <= 0 || (size & 0xfff) != 0) {
            throw new IllegalArgumentException("guest RAM size must be a positive multiple of 4 KiB: " + size);
        }
        if (size <= PCI_HOLE_START) return List.of(new Range(0, size));
        return List.of(new Range(0, PCI_HOLE_START), new Range(HIGH_RAM_START, size - PCI_HOLE_START));
    }
}
