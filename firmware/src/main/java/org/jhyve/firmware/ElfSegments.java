package org.jhyve.firmware;

import java.nio.file.Path;
import org.jhyve.memory.GuestMemory;

/** Loads an ELF kernel's PT_LOAD segments at their physical addresses, checked first, bss zeroed. */
final class ElfSegments {
    private ElfSegments() {}

    /** Returns the end of the highest segment. */
    static long load(Path path, ElfFile elf, byte[] image, GuestMemory memory) {
        long end = 0;
        for (ElfFile.ProgramHeader ph : elf.programHeaders()) {
            if (!ph.isLoad() || ph.memSize() == 0) continue;
            if (ph.paddr() < LowMemoryMap.HIGH_MEMORY || ph.paddr() > Long.MAX_VALUE - ph.memSize()
                    || !memory.isValid(ph.paddr(), ph.memSize())) {
                throw BootErrors.about(path, String.format("kernel segment [0x%x, +0x%x) does not fit in guest RAM above 1 MiB",
                        ph.paddr(), ph.memSize()));
            }
            end = Math.max(end, ph.paddr() + ph.memSize());
        }
        if (end == 0) throw BootErrors.about(path, "ELF file has no loadable segment");
        write(elf, image, memory);
        return end;
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
