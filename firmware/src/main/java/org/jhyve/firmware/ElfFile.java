package org.jhyve.firmware;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The parts of an x86-64 ELF64 file a loader needs: type, entry point, program headers, and the Xen PVH
 * entry note if there is one. {@link #parse} checks every offset and size against the file, so a loader
 * can copy segments without further checks on the file side.
 */
public record ElfFile(int type, long entry, List<ProgramHeader> programHeaders, OptionalLong pvhEntry) {
    public static final int ET_EXEC = 2;
    public static final int ET_DYN = 3;
    public static final int PT_LOAD = 1;
    public static final int PT_NOTE = 4;
    static final int EM_X86_64 = 62;
    /** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit physical entry point of a kernel that boots through PVH. */
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    /** The note's name, "Xen\0", read as a little-endian int. */
    private static final int XEN_NAME = 'X' | 'e' << 8 | 'n' << 16;
    private static final int HEADER_SIZE = 64;
    private static final int PROGRAM_HEADER_SIZE = 56;
    private static final int PN_XNUM = 0xffff;

    /** One program header; {@code offset}, {@code fileSize} are already checked to lie inside the file. */
    public record ProgramHeader(int type, int flags, long offset, long vaddr, long paddr, long fileSize, long memSize,
                                long align) {
        public boolean isLoad() { return type == PT_LOAD; }
    }

    public ElfFile {
        programHeaders = List.copyOf(programHeaders);
    }

    /** True when {@code image} starts with the ELF magic, whatever else it holds. */
    static boolean hasElfMagic(byte[] image) {
        return image.length >= 4 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F';
    }

    /**
     * Parses an ELF image; anything but a well-formed little-endian x86-64 ELF64 is a
     * {@link org.jhyve.boot.BootException} naming {@code path} and the problem.
     */
    public static ElfFile parse(Path path, byte[] image) {
        if (!hasElfMagic(image)) throw BootErrors.about(path, "not an ELF file");
        if (image.length < HEADER_SIZE) throw BootErrors.about(path, "truncated ELF header (" + image.length + " bytes)");
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (image[4] != 2) throw BootErrors.about(path, "32-bit ELF file: jhyve boots x86-64 ELF64 images only");
        if (image[5] != 1) throw BootErrors.about(path, "big-endian ELF file: jhyve boots x86-64 ELF64 images only");
        int machine = Short.toUnsignedInt(b.getShort(0x12));
        if (machine != EM_X86_64) throw BootErrors.about(path, "ELF file for machine " + machine + ", not x86-64 (62)");
        int type = Short.toUnsignedInt(b.getShort(0x10));
        long entry = b.getLong(0x18);
        long phoff = b.getLong(0x20);
        int phentsize = Short.toUnsignedInt(b.getShort(0x36));
        int phnum = Short.toUnsignedInt(b.getShort(0x38));
        if (phnum == PN_XNUM) throw BootErrors.about(path, "too many ELF program headers (extended numbering is not supported)");
        if (phnum > 0 && phentsize != PROGRAM_HEADER_SIZE) {
            throw BootErrors.about(path, "ELF program header size is " + phentsize + ", expected " + PROGRAM_HEADER_SIZE);
        }
        if (phnum > 0 && !fitsInFile(phoff, (long) phnum * PROGRAM_HEADER_SIZE, image.length)) {
            throw BootErrors.about(path, String.format("truncated: the ELF program headers (%d at offset 0x%x) go past the end of the file (%d bytes)",
                    phnum, phoff, image.length));
        }
        List<ProgramHeader> headers = new ArrayList<>(phnum);
        OptionalLong pvhEntry = OptionalLong.empty();
        for (int i = 0; i < phnum; i++) {
            ProgramHeader ph = readProgramHeader(b, (int) (phoff + (long) i * PROGRAM_HEADER_SIZE));
            checkProgramHeader(path, image.length, i, ph);
            headers.add(ph);
            if (ph.type() == PT_NOTE && pvhEntry.isEmpty()) pvhEntry = findPvhEntry(path, b, ph);
        }
        return new ElfFile(type, entry, headers, pvhEntry);
    }

    private static ProgramHeader readProgramHeader(ByteBuffer b, int at) {
        return new ProgramHeader(b.getInt(at), b.getInt(at + 4), b.getLong(at + 8), b.getLong(at + 16),
                b.getLong(at + 24), b.getLong(at + 32), b.getLong(at + 40), b.getLong(at + 48));
    }

    private static void checkProgramHeader(Path path, int fileLength, int index, ProgramHeader ph) {
        if (ph.type() != PT_LOAD && ph.type() != PT_NOTE) return; // nothing else is read
        if (!fitsInFile(ph.offset(), ph.fileSize(), fileLength)) {
            throw BootErrors.about(path, String.format("truncated: ELF segment %d (offset 0x%x, 0x%x bytes) goes past the end of the file (%d bytes)",
                    index, ph.offset(), ph.fileSize(), fileLength));
        }
        if (ph.isLoad() && Long.compareUnsigned(ph.fileSize(), ph.memSize()) > 0) {
            throw BootErrors.about(path, String.format("ELF segment %d has more bytes in the file (0x%x) than in memory (0x%x)",
                    index, ph.fileSize(), ph.memSize()));
        }
    }

    /**
     * Walks the notes of one PT_NOTE segment for "Xen" note 18. Each note is namesz, descsz, type, then the
     * name and the descriptor, each padded to 4 bytes (8 in segments aligned to 8, as GNU property notes are).
     */
    private static OptionalLong findPvhEntry(Path path, ByteBuffer b, ProgramHeader note) {
        long padding = note.align() == 8 ? 8 : 4;
        long at = note.offset();
        long end = note.offset() + note.fileSize(); // cannot overflow: checked against the file length
        while (end - at >= 12) {
            long nameSize = Integer.toUnsignedLong(b.getInt((int) at));
            long descSize = Integer.toUnsignedLong(b.getInt((int) at + 4));
            int noteType = b.getInt((int) at + 8);
            long name = at + 12;
            long desc = name + pad(nameSize, padding);
            long next = desc + pad(descSize, padding);
            if (next > end) throw BootErrors.about(path, String.format("truncated ELF note at offset 0x%x", at));
            if (nameSize == 4 && b.getInt((int) name) == XEN_NAME && noteType == XEN_ELFNOTE_PHYS32_ENTRY) {
                if (descSize == 4) return OptionalLong.of(Integer.toUnsignedLong(b.getInt((int) desc)));
                if (descSize == 8) return OptionalLong.of(b.getLong((int) desc));
                throw BootErrors.about(path, "Xen PVH entry note has a " + descSize + "-byte address, expected 4 or 8");
            }
            at = next;
        }
        return OptionalLong.empty();
    }

    /** {@code n} rounded up to a multiple of {@code padding}; n is at most 2^32 - 1, so this cannot overflow. */
    private static long pad(long n, long padding) {
        return (n + padding - 1) & -padding;
    }

    /** {@code [offset, offset+size)} lies in a file of {@code length} bytes; u64 fields above 2^63 never fit. */
    static boolean fitsInFile(long offset, long size, long length) {
        return offset >= 0 && size >= 0 && offset <= length && size <= length - offset;
    }
}
