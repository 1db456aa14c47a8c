package org.jhyve.firmware;

import java.nio.charset.StandardCharsets;
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
 * Boots a Multiboot 1 kernel (Multiboot Specification 0.6.96, sections 3.2–3.3), as GRUB or QEMU's
 * {@code -kernel} would: the image at its physical addresses (ELF program headers, or the header's load
 * addresses with flag bit 16), then, page-aligned above both the kernel and the first megabyte, the initrd
 * as the one module and the information structure with its memory map and command lines.
 *
 * <p>The vCPU starts in 32-bit protected mode with paging off: CS a flat 4 GiB code segment, the data
 * segments flat 4 GiB data, EFLAGS with IF and VM clear, EAX = 0x2BADB002, EBX = the information
 * structure, ESP undefined (0). The kernel's command line is the kernel's path, a space and the user's
 * command line, as QEMU and GRUB give it (programs read the first word as argv[0]).
 */
final class MultibootLoader {
    private static final long PAGE = 4096;
    /** The information structure (flags … boot_loader_name) is 72 bytes; the rest of its block follows at fixed places. */
    static final int INFO_SIZE = 88;
    private static final int MODULE_OFFSET = 0x60;
    private static final int LOADER_NAME_OFFSET = 0x70;
    private static final int MEMORY_MAP_OFFSET = 0x80;
    private static final int MEMORY_MAP_ENTRY = 24;
    private static final byte[] LOADER_NAME = "jhyve\0".getBytes(StandardCharsets.US_ASCII);
    /** Information flags: memory sizes (bit 0), command line (2), modules (3), memory map (6), boot loader name (9). */
    static final int INFO_MEMORY = 1, INFO_CMDLINE = 1 << 2, INFO_MODULES = 1 << 3, INFO_MEMORY_MAP = 1 << 6, INFO_LOADER_NAME = 1 << 9;
    /** What a PC reports as conventional memory: 640 KiB, in KiB. */
    private static final int MEM_LOWER_KIB = 640;
    /** Below this a kernel would overwrite the IVT, BIOS data and jhyve's GDT and TSS at 0x500. */
    private static final long FIRST_KERNEL_BYTE = 0x1000;

    /** Where one piece of the image goes: {@code [start, start + fileBytes)} from the file at {@code fileOffset}, zeroed to {@code end}. */
    record Piece(String what, long start, long end, long fileOffset, long fileBytes) {}

    private MultibootLoader() {}

    static BootState load(Path path, ImageFormat.Multiboot format, byte[] image, GuestMemory memory,
                          Optional<byte[]> module, Optional<Path> modulePath, String cmdline) {
        format.header().check(path);
        List<Piece> pieces = format.header().addresses().isPresent()
                ? List.of(addressPiece(path, format.header(), image.length))
                : elfPieces(path, format.elf().orElseThrow());
        long entry = format.header().addresses().isPresent()
                ? format.header().addresses().get().entry()
                : physicalEntry(format.elf().get());
        long kernelEnd = 0;
        for (Piece piece : pieces) {
            checkPlacement(path, memory, piece);
            kernelEnd = Math.max(kernelEnd, piece.end());
        }
        final long entryPoint = entry;
        if (pieces.stream().noneMatch(p -> entryPoint >= p.start() && entryPoint < p.end())) {
            throw BootErrors.about(path, String.format("Multiboot entry point 0x%x is not inside the loaded image", entry));
        }

        // Everything past the kernel: the module, then the information block with the strings at its end.
        long at = Math.max(alignUp(kernelEnd), LowMemoryMap.HIGH_MEMORY);
        long moduleStart = at;
        long moduleLength = module.map(m -> (long) m.length).orElse(0L);
        at = alignUp(at + moduleLength);
        List<E820Map.Entry> map = E820Map.of(memory);
        byte[] kernelCommand = KernelCommandLine.encode(path, commandLine(path, cmdline), LowMemoryMap.COMMAND_LINE_MAX - 1);
        byte[] moduleCommand = modulePath.map(p -> p.toString()).orElse("").getBytes(StandardCharsets.UTF_8);
        long info = at;
        long mapAt = info + MEMORY_MAP_OFFSET;
        long kernelCommandAt = mapAt + (long) MEMORY_MAP_ENTRY * map.size();
        long moduleCommandAt = kernelCommandAt + kernelCommand.length + 1;
        long infoEnd = moduleCommandAt + moduleCommand.length + 1;
        long lowRamEnd = E820Map.lowRamEnd(memory);
        if (infoEnd > lowRamEnd || infoEnd > LowMemoryMap.IDENTITY_MAPPED) {
            throw BootErrors.about(path, String.format("the Multiboot kernel (ending at 0x%x)%s and its boot information do not fit in guest RAM below 0x%x: give the guest more memory",
                    kernelEnd, module.isPresent() ? " with its module of " + moduleLength + " bytes" : "", Math.min(lowRamEnd, LowMemoryMap.IDENTITY_MAPPED)));
        }

        for (Piece piece : pieces) {
            memory.write(piece.start(), image, (int) piece.fileOffset(), (int) piece.fileBytes());
            memory.fill(piece.start() + piece.fileBytes(), piece.end() - piece.start() - piece.fileBytes(), (byte) 0);
        }
        module.ifPresent(m -> memory.write(moduleStart, m));
        memory.fill(info, infoEnd - info, (byte) 0);
        int flags = INFO_MEMORY | INFO_CMDLINE | INFO_MODULES | INFO_MEMORY_MAP | INFO_LOADER_NAME;
        memory.writeInt(info, flags);
        memory.writeInt(info + 4, MEM_LOWER_KIB);
        memory.writeInt(info + 8, (int) ((lowRamEnd - LowMemoryMap.HIGH_MEMORY) >>> 10));
        memory.writeInt(info + 12, 0xffffffff); // boot_device: none (flag bit 1 clear anyway)
        memory.writeInt(info + 16, (int) kernelCommandAt);
        memory.writeInt(info + 20, module.isPresent() ? 1 : 0);
        memory.writeInt(info + 24, (int) (info + MODULE_OFFSET));
        memory.writeInt(info + 44, MEMORY_MAP_ENTRY * map.size());
        memory.writeInt(info + 48, (int) mapAt);
        memory.writeInt(info + 64, (int) (info + LOADER_NAME_OFFSET));
        if (module.isPresent()) {
            memory.writeInt(info + MODULE_OFFSET, (int) moduleStart);
            memory.writeInt(info + MODULE_OFFSET + 4, (int) (moduleStart + moduleLength));
            memory.writeInt(info + MODULE_OFFSET + 8, (int) moduleCommandAt);
        }
        memory.write(info + LOADER_NAME_OFFSET, LOADER_NAME);
        for (int i = 0; i < map.size(); i++) {
            long e = mapAt + (long) MEMORY_MAP_ENTRY * i;
            memory.writeInt(e, MEMORY_MAP_ENTRY - 4); // "size" counts the bytes after itself
            memory.writeLong(e + 4, map.get(i).address());
            memory.writeLong(e + 12, map.get(i).size());
            memory.writeInt(e + 20, map.get(i).type());
        }
        memory.write(kernelCommandAt, kernelCommand);
        memory.write(moduleCommandAt, moduleCommand);

        LongModeSetup.installGdtAndTss(memory);
        // A BIOS's PICs, PIT and vector table, unless the kernel itself was loaded where they go.
        boolean biosAreaFree = pieces.stream().noneMatch(p -> overlaps(p, 0, IVT_END)
                || overlaps(p, PcFirmwareState.BASE, PcFirmwareState.BASE + PcFirmwareState.SIZE));
        long start = biosAreaFree ? PcFirmwareState.install(memory, entry) : entry;
        Registers regs = Registers.initial(start).withRbx(info).withRax(Integer.toUnsignedLong(MultibootHeader.BOOTLOADER_MAGIC));
        return new BootState(regs, protectedModeRegisters(), List.of(), String.format("%s %s, entry 0x%x, 32-bit protected mode%s",
                format.describe(), path.getFileName(), entry, module.isPresent() ? ", module " + moduleLength + " bytes" : ""));
    }

    private static final long IVT_END = 0x400;

    private static boolean overlaps(Piece p, long start, long end) {
        return p.start() < end && p.end() > start;
    }

    /** Flat 32-bit protected mode, paging off, on jhyve's GDT (its code32 and data selectors). */
    static SpecialRegisters protectedModeRegisters() {
        Segment data = LongModeSetup.data();
        Segment ldt = new Segment(0, 0, 0, 0x2, false, 0, false, false, false, false, false, true);
        return new SpecialRegisters(LongModeSetup.code32(), data, data, data, data, data, LongModeSetup.taskRegister(), ldt,
                new DescriptorTable(LowMemoryMap.GDT, LongModeSetup.gdtEntries().length * 8 - 1),
                new DescriptorTable(LowMemoryMap.IDT, 0),
                SpecialRegisters.CR0_PE | SpecialRegisters.CR0_ET, 0, 0, 0, 0, 0, BootProcessor.APIC_BASE);
    }

    /** QEMU's and GRUB's command line: the kernel's path, then the user's arguments (if any). */
    static String commandLine(Path kernel, String cmdline) {
        return cmdline.isBlank() ? kernel.toString() : kernel + " " + cmdline.strip();
    }

    /**
     * The a.out kludge: the header sits at {@code header_addr} in memory, so the load starts
     * {@code header_addr - load_addr} bytes before the header in the file.
     */
    private static Piece addressPiece(Path path, MultibootHeader header, int fileLength) {
        MultibootHeader.Addresses a = header.addresses().orElseThrow();
        long before = a.headerAddress() - a.loadAddress();
        long fileOffset = header.offset() - before;
        if (before < 0 || fileOffset < 0) {
            throw BootErrors.about(path, String.format("Multiboot load address 0x%x and header address 0x%x put the load before the file's start",
                    a.loadAddress(), a.headerAddress()));
        }
        long fileBytes = a.loadEnd() == 0 ? fileLength - fileOffset : a.loadEnd() - a.loadAddress();
        if (fileBytes <= 0 || !ElfFile.fitsInFile(fileOffset, fileBytes, fileLength)) {
            throw BootErrors.about(path, String.format("Multiboot load_end_addr 0x%x: [0x%x, 0x%x) is not a range of the file (%d bytes from offset 0x%x)",
                    a.loadEnd(), a.loadAddress(), a.loadAddress() + Math.max(fileBytes, 0), fileLength, fileOffset));
        }
        long end = a.loadAddress() + fileBytes;
        if (a.bssEnd() != 0) {
            if (a.bssEnd() < end) throw BootErrors.about(path, String.format("Multiboot bss_end_addr 0x%x is below the load's end 0x%x", a.bssEnd(), end));
            end = a.bssEnd();
        }
        return new Piece("Multiboot load range", a.loadAddress(), end, fileOffset, fileBytes);
    }

    private static List<Piece> elfPieces(Path path, ElfFile elf) {
        List<ElfSegments.Placed> placed = ElfSegments.placed(path, elf);
        return placed.stream().map(p -> {
            ElfFile.ProgramHeader ph = elf.programHeaders().get(p.index());
            return new Piece(p.describe(), p.start(), p.end(), ph.offset(), ph.fileSize());
        }).toList();
    }

    /** ELF entry points are virtual: one inside a segment's virtual range is moved to that segment's physical address. */
    private static long physicalEntry(ElfFile elf) {
        for (ElfFile.ProgramHeader ph : elf.programHeaders()) {
            if (ph.isLoad() && elf.entry() >= ph.vaddr() && elf.entry() - ph.vaddr() < ph.memSize()) {
                return ph.paddr() + (elf.entry() - ph.vaddr());
            }
        }
        return elf.entry();
    }

    private static void checkPlacement(Path path, GuestMemory memory, Piece piece) {
        String where = String.format("%s [0x%x, 0x%x)", piece.what(), piece.start(), piece.end());
        if (piece.end() > LowMemoryMap.IDENTITY_MAPPED) throw BootErrors.about(path, where + " ends above 4 GiB, out of reach of a 32-bit entry");
        if (piece.start() < FIRST_KERNEL_BYTE) throw BootErrors.about(path, where + " overlaps the first 4 KiB (interrupt vectors, BIOS data, jhyve's GDT)");
        if (piece.start() < LowMemoryMap.HIGH_MEMORY && piece.end() > LowMemoryMap.EBDA) {
            throw BootErrors.about(path, where + String.format(" overlaps the BIOS area [0x%x, 0x%x)", LowMemoryMap.EBDA, LowMemoryMap.HIGH_MEMORY));
        }
        if (!memory.isValid(piece.start(), piece.end() - piece.start())) throw BootErrors.about(path, where + " is not in guest RAM");
    }

    private static long alignUp(long address) {
        return (address + PAGE - 1) & -PAGE;
    }
}
