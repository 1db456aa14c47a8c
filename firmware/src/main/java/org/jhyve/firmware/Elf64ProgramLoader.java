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
        List<ElfFile.ProgramHeader> headers = elf.programHeaders();
        boolean anyLoad = false;
        boolean entryLoaded = false;
        for (int i = 0; i < headers.size(); i++) {
            ElfFile.ProgramHeader ph = headers.get(i);
            if (!ph.isLoad() || ph.memSize() == 0) continue;
            checkPlacement(path, i, ph, memory);
            anyLoad = true;
            entryLoaded |= elf.entry() - ph.paddr() >= 0 && elf.entry() - ph.paddr() < ph.memSize();
        }
        if (!anyLoad) throw BootErrors.about(path, "ELF file has no loadable segment");
        if (!entryLoaded) throw BootErrors.about(path, String.format("entry point 0x%x is not inside any loadable segment", elf.entry()));

        var specialRegisters = LongModeSetup.install(memory);
        ElfSegments.write(elf, image, memory);
        Registers registers = Registers.initial(elf.entry()).withRsp(LowMemoryMap.LONG_MODE_STACK_TOP);
        return new BootState(registers, specialRegisters, List.of(),
                String.format("ELF64 program %s, entry 0x%x, long mode", path.getFileName(), elf.entry()));
    }

    /** The segment must fit guest RAM and the identity map, and leave jhyve's boot tables alone. */
    private static void checkPlacement(Path path, int index, ElfFile.ProgramHeader ph, GuestMemory memory) {
        long start = ph.paddr();
        long size = ph.memSize();
        if (start < 0 || size < 0 || start > Long.MAX_VALUE - size) {
            throw BootErrors.about(path, String.format("ELF segment %d at 0x%x with 0x%x bytes wraps around the address space",
                    index, start, size));
        }
        long end = start + size;
        String where = String.format("ELF segment %d [0x%x, 0x%x)", index, start, end);
        if (ph.vaddr() != start) {
            throw BootErrors.about(path, String.format("%s is linked at virtual address 0x%x: jhyve maps memory 1:1, "
                    + "so a program's virtual and physical addresses must be equal", where, ph.vaddr()));
        }
        if (!memory.isValid(start, size)) {
            throw BootErrors.about(path, where + " is outside guest RAM " + describeRam(memory));
        }
        if (end > LowMemoryMap.IDENTITY_MAPPED) {
            throw BootErrors.about(path, where + " ends above 4 GiB, beyond the identity map a program starts with");
        }
        if (start < LowMemoryMap.PAGE_TABLES_END && end > LowMemoryMap.BOOT_TABLES_START) {
            throw BootErrors.about(path, String.format("%s overlaps jhyve's boot tables at [0x%x, 0x%x)",
                    where, LowMemoryMap.BOOT_TABLES_START, LowMemoryMap.PAGE_TABLES_END));
        }
    }

    private static String describeRam(GuestMemory memory) {
        return memory.regions().stream()
                .map(r -> String.format("[0x%x, 0x%x)", r.guestAddress(), r.end()))
                .collect(Collectors.joining(" and "));
    }
}
