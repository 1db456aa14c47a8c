package org.jhyve.firmware;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.MemoryRegion;

/**
 * The guest's physical memory map as firmware reports it (e820 for bzImage, the PVH memmap): RAM below
 * the EBDA, the EBDA and BIOS area (0x9FC00–0xFFFFF, where the ACPI tables live) reserved, then RAM up
 * to the PCI hole and RAM above 4 GiB. Types are e820's: 1 usable RAM, 2 reserved.
 */
public final class E820Map {
    public static final int RAM = 1;
    public static final int RESERVED = 2;

    /** One entry: {@code [address, address+size)} of {@code type}. */
    public record Entry(long address, long size, int type) {}

    private E820Map() {}

    public static List<Entry> of(GuestMemory memory) {
        List<Entry> entries = new ArrayList<>();
        for (MemoryRegion r : memory.regions()) {
            if (r.guestAddress() == 0) {
                long low = Math.min(r.end(), LowMemoryMap.EBDA);
                entries.add(new Entry(0, low, RAM));
                if (r.end() > LowMemoryMap.EBDA) {
                    long reservedEnd = Math.min(r.end(), LowMemoryMap.HIGH_MEMORY);
                    entries.add(new Entry(LowMemoryMap.EBDA, reservedEnd - LowMemoryMap.EBDA, RESERVED));
                    if (r.end() > LowMemoryMap.HIGH_MEMORY) {
                        entries.add(new Entry(LowMemoryMap.HIGH_MEMORY, r.end() - LowMemoryMap.HIGH_MEMORY, RAM));
                    }
                }
            } else {
                entries.add(new Entry(r.guestAddress(), r.size(), RAM));
            }
        }
        return List.copyOf(entries);
    }

    /** The end of the RAM that starts at 0 (below the PCI hole). */
    static long lowRamEnd(GuestMemory memory) {
        return memory.regions().getFirst().end();
    }
}
