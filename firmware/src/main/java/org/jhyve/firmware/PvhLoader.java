package org.jhyve.firmware;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jhyve.boot.BootState;
import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.memory.GuestMemory;

/**
 * Boots an uncompressed ELF vmlinux through its PVH entry (the XEN_ELFNOTE_PHYS32_ENTRY note): segments
 * at their physical addresses, an {@code hvm_start_info} with the memory map, command line and initrd,
 * and the vCPU in flat 32-bit protected mode with paging off and EBX pointing at the start info, as
 * Xen's PVH boot ABI (docs/misc/pvh.pandoc) specifies. No decompressor runs: the fast path when kernel
 * code is emulated.
 */
final class PvhLoader {
    static final int START_INFO_MAGIC = 0x336ec578;
    private static final int START_INFO_VERSION = 1;

    private PvhLoader() {}

    static BootState load(Path path, ElfFile elf, long entry, byte[] image, GuestMemory memory,
                          Optional<byte[]> initrd, String cmdline, long rsdp) {
        // Everything that can be refused is checked before the first byte is written.
        if (!ElfSegments.contains(ElfSegments.placed(path, elf), entry)) {
            throw BootErrors.about(path, String.format("PVH entry point 0x%x is not inside any loadable segment", entry));
        }
        byte[] command = KernelCommandLine.encode(path, cmdline, LowMemoryMap.COMMAND_LINE_MAX - 1);
        List<E820Map.Entry> map = E820Map.of(memory);
        if (map.size() > LowMemoryMap.PVH_MEMMAP_MAX) {
            throw BootErrors.about(path, String.format("%d memory ranges do not fit the PVH memory map (at most %d)", map.size(), LowMemoryMap.PVH_MEMMAP_MAX));
        }
        long kernelEnd = ElfSegments.load(path, elf, image, memory);
        memory.fill(LowMemoryMap.COMMAND_LINE, LowMemoryMap.COMMAND_LINE_MAX, (byte) 0);
        memory.write(LowMemoryMap.COMMAND_LINE, command);

        int modules = 0;
        memory.fill(LowMemoryMap.PVH_MODULES, 32, (byte) 0);
        if (initrd.isPresent()) {
            long at = InitrdPlacement.place(path, memory, initrd.get().length, kernelEnd, E820Map.lowRamEnd(memory));
            memory.write(at, initrd.get());
            memory.writeLong(LowMemoryMap.PVH_MODULES, at);
            memory.writeLong(LowMemoryMap.PVH_MODULES + 8, initrd.get().length);
            modules = 1;
        }

        for (int i = 0; i < map.size(); i++) {
            long at = LowMemoryMap.PVH_MEMMAP + 24L * i;
            memory.writeLong(at, map.get(i).address());
            memory.writeLong(at + 8, map.get(i).size());
            memory.writeInt(at + 16, map.get(i).type());
            memory.writeInt(at + 20, 0);
        }

        long si = LowMemoryMap.PVH_START_INFO;
        memory.fill(si, 56, (byte) 0);
        memory.writeInt(si, START_INFO_MAGIC);
        memory.writeInt(si + 4, START_INFO_VERSION);
        memory.writeInt(si + 12, modules);
        memory.writeLong(si + 16, modules == 0 ? 0 : LowMemoryMap.PVH_MODULES);
        memory.writeLong(si + 24, LowMemoryMap.COMMAND_LINE);
        memory.writeLong(si + 32, rsdp);
        memory.writeLong(si + 40, LowMemoryMap.PVH_MEMMAP);
        memory.writeInt(si + 48, map.size());

        LongModeSetup.install(memory); // the GDT (with its flat 32-bit code segment) and a TSS
        Segment data = LongModeSetup.data();
        Segment ldt = new Segment(0, 0, 0, 0x2, false, 0, false, false, false, false, false, true);
        SpecialRegisters sregs = new SpecialRegisters(LongModeSetup.code32(), data, data, data, data, data,
                LongModeSetup.taskRegister(), ldt,
                new DescriptorTable(LowMemoryMap.GDT, LongModeSetup.gdtEntries().length * 8 - 1),
                new DescriptorTable(LowMemoryMap.IDT, 0),
                SpecialRegisters.CR0_PE | SpecialRegisters.CR0_ET, 0, 0, 0, 0, 0, BootProcessor.APIC_BASE);
        Registers regs = Registers.initial(entry).withRbx(si);
        return new BootState(regs, sregs, List.of(), String.format("Linux vmlinux %s via PVH entry 0x%x%s",
                path.getFileName(), entry, modules == 0 ? "" : ", initrd " + initrd.get().length + " bytes"));
    }
}
