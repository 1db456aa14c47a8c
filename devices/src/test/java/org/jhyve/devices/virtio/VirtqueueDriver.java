package org.jhyve.devices.virtio;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.memory.GuestMemory;

/**
 * The driver's side of a split virtqueue, for device tests: lays out the descriptor table and rings in
 * guest memory, queues chains, and reads completions back, byte for byte as a guest driver would. It also
 * writes raw descriptors and ring entries, so tests can play a hostile driver.
 */
public final class VirtqueueDriver {
    /** One buffer of a chain, as the driver posts it. */
    public record Buf(long address, int length, boolean writable) {
        public static Buf in(long address, int length) { return new Buf(address, length, false); }

        public static Buf out(long address, int length) { return new Buf(address, length, true); }
    }

    /** One used-ring entry. */
    public record Used(int head, int length) {}

    private final GuestMemory memory;
    private final QueueLayout layout;
    private int nextDescriptor;
    private int availIdx;
    private int usedSeen;
    private long nextData;
    private final long dataEnd;

    /**
     * Puts a queue of {@code size} entries at {@code base} (descriptor table, then the avail ring, then the used
     * ring, each aligned) and keeps {@code [dataBase, dataEnd)} for buffers handed out by {@link #allocate}.
     */
    public VirtqueueDriver(GuestMemory memory, long base, int size, long dataBase, long dataEnd) {
        this.memory = memory;
        long desc = base;
        long avail = desc + 16L * size;
        long used = (avail + 6 + 2L * size + 3) & ~3L;
        this.layout = new QueueLayout(size, desc, avail, used);
        memory.fill(base, used + 6 + 8L * size - base, (byte) 0);
        this.nextData = dataBase;
        this.dataEnd = dataEnd;
    }

    public QueueLayout layout() { return layout; }

    /** Reserves {@code length} bytes of buffer space (8-byte aligned). */
    public long allocate(int length) {
        long at = nextData;
        nextData = (nextData + length + 7) & ~7L;
        if (nextData > dataEnd) throw new IllegalStateException("test data area full");
        return at;
    }

    /** Writes a chain into free descriptors, links it with NEXT and publishes it; returns its head. */
    public int addChain(List<Buf> bufs) {
        int head = nextDescriptor;
        for (int i = 0; i < bufs.size(); i++) {
            int index = (head + i) % layout.size();
            boolean last = i == bufs.size() - 1;
            Buf b = bufs.get(i);
            writeDescriptor(layout.descriptorTable(), index, b.address(), b.length(),
                    (b.writable() ? SplitQueue.DESC_F_WRITE : 0) | (last ? 0 : SplitQueue.DESC_F_NEXT), (index + 1) % layout.size());
        }
        nextDescriptor = (head + bufs.size()) % layout.size();
        publish(head);
        return head;
    }

    /** Writes the buffers as an indirect table at {@code table} and publishes one INDIRECT descriptor for it. */
    public int addIndirectChain(long table, List<Buf> bufs) {
        for (int i = 0; i < bufs.size(); i++) {
            Buf b = bufs.get(i);
            boolean last = i == bufs.size() - 1;
            writeDescriptor(table, i, b.address(), b.length(),
                    (b.writable() ? SplitQueue.DESC_F_WRITE : 0) | (last ? 0 : SplitQueue.DESC_F_NEXT), i + 1);
        }
        int head = nextDescriptor;
        writeDescriptor(layout.descriptorTable(), head, table, 16 * bufs.size(), SplitQueue.DESC_F_INDIRECT, 0);
        nextDescriptor = (head + 1) % layout.size();
        publish(head);
        return head;
    }

    /** Writes descriptor {@code index} of the table at {@code table} as given, for hostile tests. */
    public void writeDescriptor(long table, int index, long address, int length, int flags, int next) {
        long at = table + 16L * index;
        memory.writeLong(at, address);
        memory.writeInt(at + 8, length);
        memory.writeShort(at + 12, (short) flags);
        memory.writeShort(at + 14, (short) next);
    }

    /** Puts {@code head} in the next avail ring slot and advances the avail index. */
    public void publish(int head) {
        memory.writeShort(layout.availRing() + 4 + 2L * (availIdx % layout.size()), (short) head);
        availIdx = (availIdx + 1) & 0xffff;
        memory.writeShort(layout.availRing() + 2, (short) availIdx);
    }

    /** Sets the avail index directly (a hostile driver may move it anywhere). */
    public void setAvailIndex(int index) {
        availIdx = index & 0xffff;
        memory.writeShort(layout.availRing() + 2, (short) availIdx);
    }

    public void setNoInterrupt(boolean on) {
        memory.writeShort(layout.availRing(), (short) (on ? SplitQueue.AVAIL_F_NO_INTERRUPT : 0));
    }

    /** Event index: the driver wants an interrupt once the used index passes {@code usedEvent}. */
    public void setUsedEvent(int usedEvent) {
        memory.writeShort(layout.availRing() + 4 + 2L * layout.size(), (short) usedEvent);
    }

    public int usedIndex() { return Short.toUnsignedInt(memory.readShort(layout.usedRing() + 2)); }

    public int usedFlags() { return Short.toUnsignedInt(memory.readShort(layout.usedRing())); }

    /** The avail_event the device left at the end of the used ring. */
    public int availEvent() { return Short.toUnsignedInt(memory.readShort(layout.usedRing() + 4 + 8L * layout.size())); }

    /** Used entries the device added since the last call. */
    public List<Used> takeUsed() {
        List<Used> out = new ArrayList<>();
        int idx = usedIndex();
        while (usedSeen != idx) {
            long entry = layout.usedRing() + 4 + 8L * (usedSeen % layout.size());
            out.add(new Used(memory.readInt(entry), memory.readInt(entry + 4)));
            usedSeen = (usedSeen + 1) & 0xffff;
        }
        return out;
    }
}
