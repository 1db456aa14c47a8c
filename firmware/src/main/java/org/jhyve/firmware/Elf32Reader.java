package org.jhyve.firmware;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Reads a little-endian i386 ELF32 executable into the same {@link ElfFile} the 64-bit loaders use (fields
 * widened to unsigned 64-bit values), for Multiboot kernels: the only 32-bit ELF images jhyve boots. Every
 * offset and size is checked against the file as {@link ElfFile#parse} does.
 */
final class Elf32Reader {
    static final int EM_386 = 3;
    private static final int HEADER_SIZE = 52;
    private static final int PROGRAM_HEADER_SIZE = 32;

    private Elf32Reader() {}

    /** True when {@code image} is an ELF file of class ELFCLASS32 (byte 4 is 1). */
    static boolean isElf32(byte[] image) {
        return ElfFile.hasElfMagic(image) && image.length > 4 && image[4] == 1;
    }

    static ElfFile parse(Path path, byte[] image) {
        if (!isElf32(image)) throw BootErrors.about(path, "not a 32-bit ELF file");
        if (image.length < HEADER_SIZE) throw BootErrors.about(path, "truncated ELF header (" + image.length + " bytes)");
        if (image[5] != 1) throw BootErrors.about(path, "big-endian ELF file: a Multiboot kernel is a little-endian i386 ELF32");
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int machine = Short.toUnsignedInt(b.getShort(0x12));
        // objcopy -O elf32-i386 of an x86-64 link (kvm-unit-tests' .flat files) says 3; x86-64 (62) in an ELF32 is x32.
        if (machine != EM_386) throw BootErrors.about(path, "32-bit ELF file for machine " + machine + ", not i386 (3)");
        int type = Short.toUnsignedInt(b.getShort(0x10));
        long entry = u32(b, 0x18);
        long phoff = u32(b, 0x1c);
        int phentsize = Short.toUnsignedInt(b.getShort(0x2a));
        int phnum = Short.toUnsignedInt(b.getShort(0x2c));
        if (phnum == 0xffff) throw BootErrors.about(path, "too many ELF program headers (extended numbering is not supported)");
        if (phnum > 0 && phentsize != PROGRAM_HEADER_SIZE) {
            throw BootErrors.about(path, "ELF program header size is " + phentsize + ", expected " + PROGRAM_HEADER_SIZE);
        }
        if (phnum > 0 && !ElfFile.fitsInFile(phoff, (long) phnum * PROGRAM_HEADER_SIZE, image.length)) {
            throw BootErrors.about(path, String.format("truncated: the ELF program headers (%d at offset 0x%x) go past the end of the file (%d bytes)",
                    phnum, phoff, image.length));
        }
        List<ElfFile.ProgramHeader> headers = new ArrayList<>(phnum);
        for (int i = 0; i < phnum; i++) {
            int at = (int) (phoff + (long) i * PROGRAM_HEADER_SIZE);
            ElfFile.ProgramHeader ph = new ElfFile.ProgramHeader(b.getInt(at), b.getInt(at + 24), u32(b, at + 4), u32(b, at + 8),
                    u32(b, at + 12), u32(b, at + 16), u32(b, at + 20), u32(b, at + 28));
            if (ph.isLoad()) {
                if (!ElfFile.fitsInFile(ph.offset(), ph.fileSize(), image.length)) {
                    throw BootErrors.about(path, String.format("truncated: ELF segment %d (offset 0x%x, 0x%x bytes) goes past the end of the file (%d bytes)",
                            i, ph.offset(), ph.fileSize(), image.length));
                }
                if (ph.fileSize() > ph.memSize()) {
                    throw BootErrors.about(path, String.format("ELF segment %d has more bytes in the file (0x%x) than in memory (0x%x)",
                            i, ph.fileSize(), ph.memSize()));
                }
            }
            headers.add(ph);
        }
        if (type != ElfFile.ET_EXEC) throw BootErrors.about(path, "ELF file of type " + type + " is not an executable (ET_EXEC)");
        return new ElfFile(type, entry, headers, OptionalLong.empty());
    }

    private static long u32(ByteBuffer b, int at) {
        return Integer.toUnsignedLong(b.getInt(at));
    }
}
