package org.jhyve.firmware;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.jhyve.boot.BootState;
import org.jhyve.hv.Registers;
import org.jhyve.memory.GuestMemory;

/**
 * Loads an ELF64 program at its physical addresses (PT_LOAD p_paddr), zeroes each segment's bss, and
 * starts it at e_entry in 64-bit mode with the first 4 GiB identity-mapped and RSP = 0x8ff0.
 * Every segment is checked before anything is written, so a bad image leaves guest memory untouched.
 */
final class Elf64ProgramLoader {
    private Elf64ProgramLoader() {}

    static BootState load(Path path, ElfFile elf, byte[] image, GuestMemory memory) {
        List<ElfSegments.Placed> segments = ElfSegments.placed(path, elf);
        for (ElfSegments.Placed segment : segments) {
            checkPlacement(path, segment, elf.programHeaders().get(segment.index()), memory);
        }
        if (!ElfSegments.contains(segments, elf.entry())) {
            throw BootErrors.about(path, String.format("entry point 0x%x is not inside any loadable segment", elf.entry()));
        }

        var specialRegisters = LongModeSetup.install(memory);
        ElfSegments.write(elf, image, memory);
        Registers registers = Registers.initial(elf.entry()).withRsp(LowMemoryMap.LONG_MODE_STACK_TOP);
        return new BootState(registers, specialRegisters, List.of(),
                String.format("ELF64 program %s, entry 0x%x, long mode", path.getFileName(), elf.entry()));
    }

    /**
     * The segment must fit guest RAM and the identity map, and leave alone jhyve's boot tables and the
     * BIOS area, where the ACPI tables go (with -A) and which the PC memory map reserves.
     */
    private static void checkPlacement(Path path, ElfSegments.Placed segment, ElfFile.ProgramHeader ph, GuestMemory memory) {
        String where = segment.describe();
        if (ph.vaddr() != segment.start()) {
            throw BootErrors.about(path, String.format("%s is linked at virtual address 0x%x: jhyve maps memory 1:1, "
                    + "so a program's virtual and physical addresses must be equal", where, ph.vaddr()));
        }
        if (!memory.isValid(segment.start(), segment.end() - segment.start())) {
            throw BootErrors.about(path, where + " is outside guest RAM " + describeRam(memory));
        }
        if (segment.end() > LowMemoryMap.IDENTITY_MAPPED) {
            throw BootErrors.about(path, where + " ends above 4 GiB, beyond the identity map a program starts with");
        }
        if (segment.overlaps(LowMemoryMap.BOOT_TABLES_START, LowMemoryMap.PAGE_TABLES_END)) {
            throw BootErrors.about(path, String.format("%s overlaps jhyve's boot tables at [0x%x, 0x%x)",
                    where, LowMemoryMap.BOOT_TABLES_START, LowMemoryMap.PAGE_TABLES_END));
        }
        if (segment.overlaps(LowMemoryMap.EBDA, LowMemoryMap.HIGH_MEMORY)) {
            throw BootErrors.about(path, String.format("%s overlaps the BIOS area [0x%x, 0x%x), where jhyve puts the ACPI tables",
                    where, LowMemoryMap.EBDA, LowMemoryMap.HIGH_MEMORY));
        }
    }

    private static String describeRam(GuestMemory memory) {
        return memory.regions().stream()
                .map(r -> String.format("[0x%x, 0x%x)", r.guestAddress(), r.end()))
                .collect(Collectors.joining(" and "));
    }
}
