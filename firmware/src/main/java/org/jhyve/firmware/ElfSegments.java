package org.jhyve.firmware;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jhyve.memory.GuestMemory;

/**
 * An ELF image's PT_LOAD segments as guest-physical ranges: checked (no wrap-around, no two overlapping,
 * inside guest RAM) before anything is written, then copied with their bss zeroed.
 */
final class ElfSegments {
    private ElfSegments() {}

    /** One loadable segment: program header {@code index}, at {@code [start, end)} in guest-physical memory. */
    record Placed(int index, long start, long end) {
        String describe() {
            return String.format("ELF segment %d [0x%x, 0x%x)", index, start, end);
        }

        boolean overlaps(long from, long to) {
            return start < to && from < end;
        }
    }

    /**
     * The loadable segments (PT_LOAD with a non-zero memory size) in program-header order. Refuses a
     * segment whose end wraps around the address space, two segments that claim the same bytes (the second
     * would silently overwrite the first), and an image with none.
     */
    static List<Placed> placed(Path path, ElfFile elf) {
        List<ElfFile.ProgramHeader> headers = elf.programHeaders();
        List<Placed> placed = new ArrayList<>();
        for (int i = 0; i < headers.size(); i++) {
            ElfFile.ProgramHeader ph = headers.get(i);
            if (!ph.isLoad() || ph.memSize() == 0) continue;
            long start = ph.paddr();
            long size = ph.memSize();
            // u64 fields: above 2^63 they read as negative, and no guest has RAM there.
            if (start < 0 || size < 0 || start > Long.MAX_VALUE - size) {
                throw BootErrors.about(path, String.format("ELF segment %d at 0x%x with 0x%x bytes wraps around the address space",
                        i, start, size));
            }
            placed.add(new Placed(i, start, start + size));
        }
        if (placed.isEmpty()) throw BootErrors.about(path, "ELF file has no loadable segment");
        List<Placed> byAddress = new ArrayList<>(placed);
        byAddress.sort(Comparator.comparingLong(Placed::start));
        for (int i = 1; i < byAddress.size(); i++) {
            Placed before = byAddress.get(i - 1);
            Placed next = byAddress.get(i);
            if (next.start() < before.end()) {
                Placed first = before.index() < next.index() ? before : next;
                Placed second = first == before ? next : before;
                throw BootErrors.about(path, String.format("ELF segments %d [0x%x, 0x%x) and %d [0x%x, 0x%x) overlap: one would overwrite the other",
                        first.index(), first.start(), first.end(), second.index(), second.start(), second.end()));
            }
        }
        return List.copyOf(placed);
    }

    /**
     * Checks a kernel's segments (above 1 MiB, inside guest RAM, below 4 GiB where a 32-bit entry can
     * reach them), then writes them. Returns the end of the highest segment.
     */
    static long load(Path path, ElfFile elf, byte[] image, GuestMemory memory) {
        long end = 0;
        for (Placed segment : placed(path, elf)) {
            if (segment.start() < LowMemoryMap.HIGH_MEMORY || !memory.isValid(segment.start(), segment.end() - segment.start())) {
                throw BootErrors.about(path, String.format("kernel segment [0x%x, +0x%x) does not fit in guest RAM above 1 MiB",
                        segment.start(), segment.end() - segment.start()));
            }
            if (segment.end() > LowMemoryMap.IDENTITY_MAPPED) {
                throw BootErrors.about(path, segment.describe() + " ends above 4 GiB, out of reach of the 32-bit PVH entry");
            }
            end = Math.max(end, segment.end());
        }
        write(elf, image, memory);
        return end;
    }

    /** True when {@code address} is one of the bytes a loadable segment fills. */
    static boolean contains(List<Placed> segments, long address) {
        return segments.stream().anyMatch(s -> address >= s.start() && address < s.end());
    }

    /** Copies every PT_LOAD segment to its physical address and zeroes its bss; placement is checked already. */
    static void write(ElfFile elf, byte[] image, GuestMemory memory) {
        for (ElfFile.ProgramHeader ph : elf.programHeaders()) {
            if (!ph.isLoad() || ph.memSize() == 0) continue;
            // Both casts are safe: the file range was checked against the image's length when parsed.
            memory.write(ph.paddr(), image, (int) ph.offset(), (int) ph.fileSize());
            memory.fill(ph.paddr() + ph.fileSize(), ph.memSize() - ph.fileSize(), (byte) 0);
        }
    }
}
