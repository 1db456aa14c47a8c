package org.jhyve.devices.ahci;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.GuestMemoryException;

/**
 * A command's physical region descriptor table (AHCI 1.3, 4.2.3.3): where in guest RAM its data goes or comes
 * from. Entries are read lazily and only as far as a transfer needs, so a guest's PRDTL of 65535 costs nothing
 * unless the data really is that scattered. Every range is checked against guest RAM; a bad one becomes a
 * {@link DmaFault} naming the guest address.
 */
final class PrdTable {
    /** DBC is a 22-bit "byte count minus one": at most 4 MiB per entry. */
    private static final int DBC_MASK = 0x3f_ffff;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    /** One entry: a guest-physical buffer. */
    record Entry(long address, long length) {}

    private final GuestMemory memory;
    private final long tableAddress;
    private final int length;
    private final List<Entry> loaded = new ArrayList<>();
    private long loadedBytes;

    PrdTable(GuestMemory memory, long tableAddress, int length) {
        this.memory = memory;
        this.tableAddress = tableAddress;
        this.length = length;
    }

    /** An empty table, for commands that move no data. */
    static PrdTable empty(GuestMemory memory) {
        return new PrdTable(memory, 0, 0);
    }

    /** How many of the first {@code wanted} bytes the table describes (it may describe fewer). */
    long available(long wanted) {
        loadUntil(wanted);
        return Math.min(wanted, loadedBytes);
    }

    /**
     * Views of guest RAM for bytes {@code [offset, offset+count)} of the transfer, in order.
     *
     * @throws DmaFault if the table is shorter, or an entry or buffer lies outside guest RAM
     */
    List<MemorySegment> segments(long offset, long count) {
        long end = offset + count;
        loadUntil(end);
        if (loadedBytes < end) throw DmaFault.prdtTooShort(tableAddress, loadedBytes, end);
        List<MemorySegment> out = new ArrayList<>();
        long at = 0;
        for (Entry e : loaded) {
            if (at >= end) break;
            long from = Math.max(offset, at), to = Math.min(end, at + e.length());
            if (from < to) out.add(slice("PRD buffer", e.address() + (from - at), to - from));
            at += e.length();
        }
        return out;
    }

    /** Copies {@code data} into the guest's buffers at transfer offset 0 (device to host). */
    void write(byte[] data) {
        long at = 0;
        for (MemorySegment s : segments(0, data.length)) {
            MemorySegment.copy(data, (int) at, s, ValueLayout.JAVA_BYTE, 0, (int) s.byteSize());
            at += s.byteSize();
        }
    }

    /** Reads the first {@code count} bytes of the guest's buffers (host to device). */
    byte[] read(int count) {
        byte[] data = new byte[count];
        long at = 0;
        for (MemorySegment s : segments(0, count)) {
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, data, (int) at, (int) s.byteSize());
            at += s.byteSize();
        }
        return data;
    }

    private void loadUntil(long bytes) {
        while (loadedBytes < bytes && loaded.size() < length) {
            long at = tableAddress + (long) AhciRegisters.PRD_ENTRY_SIZE * loaded.size();
            MemorySegment raw = slice("PRD entry " + loaded.size(), at, AhciRegisters.PRD_ENTRY_SIZE);
            // DBA bit 0 is reserved (buffers are word aligned); DW2 is reserved; DW3 bit 31 is "interrupt on completion".
            long address = raw.get(LONG, 0) & ~1L;
            long count = (raw.get(INT, 12) & DBC_MASK) + 1L;
            loaded.add(new Entry(address, count));
            loadedBytes += count;
        }
    }

    private MemorySegment slice(String what, long address, long count) {
        try {
            return memory.slice(address, count);
        } catch (GuestMemoryException e) {
            throw DmaFault.outsideRam(what, address, count);
        }
    }
}
