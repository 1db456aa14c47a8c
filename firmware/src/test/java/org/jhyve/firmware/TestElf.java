package org.jhyve.firmware;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds small ELF64 images by hand for the loader tests: header, program headers, then each segment's
 * bytes in order. Fields can be overridden afterwards with {@link #patchProgramHeader} to make them wrong.
 */
final class TestElf {
    static final int HEADER_SIZE = 64;
    static final int PROGRAM_HEADER_SIZE = 56;

    private record Segment(int type, long vaddr, long paddr, byte[] data, long memSize, long align) {}

    private final List<Segment> segments = new ArrayList<>();
    private int elfClass = 2;
    private int machine = 62;
    private int type = ElfFile.ET_EXEC;
    private long entry;

    static TestElf executable(long entry) {
        TestElf elf = new TestElf();
        elf.entry = entry;
        return elf;
    }

    TestElf type(int elfType) { this.type = elfType; return this; }

    TestElf machine(int elfMachine) { this.machine = elfMachine; return this; }

    TestElf elfClass(int cls) { this.elfClass = cls; return this; }

    /** A PT_LOAD at {@code address} (virtual = physical) with {@code data}, zero-filled up to {@code memSize}. */
    TestElf load(long address, byte[] data, long memSize) {
        return load(address, address, data, memSize);
    }

    TestElf load(long vaddr, long paddr, byte[] data, long memSize) {
        segments.add(new Segment(ElfFile.PT_LOAD, vaddr, paddr, data, memSize, 0x1000));
        return this;
    }

    /** A PT_NOTE holding {@code notes} (see {@link #note}), aligned to {@code align} (4 or 8). */
    TestElf notes(long align, byte[]... notes) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] n : notes) all.writeBytes(n);
        byte[] data = all.toByteArray();
        segments.add(new Segment(ElfFile.PT_NOTE, 0, 0, data, data.length, align));
        return this;
    }

    /** One note: namesz, descsz, type, the NUL-terminated name and the descriptor, each padded to {@code padding}. */
    static byte[] note(String name, int noteType, byte[] desc, int padding) {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(12 + pad(nameBytes.length, padding) + pad(desc.length, padding)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(nameBytes.length).putInt(desc.length).putInt(noteType);
        b.put(nameBytes).position(12 + pad(nameBytes.length, padding));
        b.put(desc);
        return b.array();
    }

    static byte[] pvhNote(long entry, int descSize) {
        ByteBuffer desc = ByteBuffer.allocate(descSize).order(ByteOrder.LITTLE_ENDIAN);
        if (descSize == 8) desc.putLong(entry); else desc.putInt((int) entry);
        return note("Xen", ElfFile.XEN_ELFNOTE_PHYS32_ENTRY, desc.array(), 4);
    }

    private static int pad(int n, int padding) {
        return (n + padding - 1) / padding * padding;
    }

    byte[] build() {
        int dataStart = HEADER_SIZE + PROGRAM_HEADER_SIZE * segments.size();
        int total = dataStart + segments.stream().mapToInt(s -> s.data().length).sum();
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) elfClass, 1, 1, 0});
        b.putShort(0x10, (short) type).putShort(0x12, (short) machine).putInt(0x14, 1).putLong(0x18, entry)
                .putLong(0x20, HEADER_SIZE).putShort(0x34, (short) HEADER_SIZE)
                .putShort(0x36, (short) PROGRAM_HEADER_SIZE).putShort(0x38, (short) segments.size());
        int offset = dataStart;
        for (int i = 0; i < segments.size(); i++) {
            Segment s = segments.get(i);
            int ph = HEADER_SIZE + PROGRAM_HEADER_SIZE * i;
            b.putInt(ph, s.type()).putInt(ph + 4, 7).putLong(ph + 8, offset).putLong(ph + 16, s.vaddr())
                    .putLong(ph + 24, s.paddr()).putLong(ph + 32, s.data().length).putLong(ph + 40, s.memSize())
                    .putLong(ph + 48, s.align());
            b.put(offset, s.data());
            offset += s.data().length;
        }
        return b.array();
    }

    /** Overwrites the 8-byte field at {@code fieldOffset} (8 = p_offset, 32 = p_filesz...) of program header {@code index}. */
    static byte[] patchProgramHeader(byte[] image, int index, int fieldOffset, long value) {
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putLong(HEADER_SIZE + PROGRAM_HEADER_SIZE * index + fieldOffset, value);
        return image;
    }

    static byte[] bytes(int length, int seed) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) out[i] = (byte) (seed + i * 7 + 1);
        return out;
    }
}
