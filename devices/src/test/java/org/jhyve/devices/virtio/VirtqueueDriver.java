package org.jhyve.devices.virtio;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.MemoryRegion;

/**
 * The driver's side of a split virtqueue (virtio 1.2, 2.7), for device tests, in the spirit of rust-vmm's
 * {@code virtio-queue} mock: lays out the descriptor table, the available ring (with its used_event slot) and
 * the used ring (with its avail_event slot) in guest memory, queues chains, and reads completions back, byte for
 * byte as a guest driver would. It also writes raw descriptors and ring entries, so tests can play a hostile
 * driver. It ships in the devices test-jar for other device tests.
 *
 * <p>Descriptors are handed out round robin, as from a ring: a test may have at most {@code size} descriptors
 * in flight (queued and not yet returned) before the oldest get overwritten. Data buffers come from a bump
 * allocator ({@link #allocate}) that never frees.
 */
public final class VirtqueueDriver {
    public static final int DESC_F_NEXT = SplitQueue.DESC_F_NEXT;
    public static final int DESC_F_WRITE = SplitQueue.DESC_F_WRITE;
    public static final int DESC_F_INDIRECT = SplitQueue.DESC_F_INDIRECT;
    public static final int AVAIL_F_NO_INTERRUPT = SplitQueue.AVAIL_F_NO_INTERRUPT;
    public static final int USED_F_NO_NOTIFY = SplitQueue.USED_F_NO_NOTIFY;

    /** One buffer of a chain, as the driver posts it: device-readable, or device-writable. */
    public record Buf(long address, int length, boolean writable) {
        /** A buffer the device reads (driver to device). */
        public static Buf in(long address, int length) { return new Buf(address, length, false); }

        /** A buffer the device writes (device to driver). */
        public static Buf out(long address, int length) { return new Buf(address, length, true); }
    }

    /** One used-ring entry: the chain's head and how many bytes the device says it wrote. */
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
     * ring, each aligned as the spec asks) and keeps {@code [dataBase, dataEnd)} for buffers handed out by
     * {@link #allocate}.
     */
    public VirtqueueDriver(GuestMemory memory, long base, int size, long dataBase, long dataEnd) {
        if (size < 1 || size > 32768) throw new IllegalArgumentException("queue size " + size);
        if ((base & 0xf) != 0) throw new IllegalArgumentException("descriptor table must be 16-byte aligned: 0x" + Long.toHexString(base));
        this.memory = memory;
        long desc = base;
        long avail = desc + QueueLayout.DESCRIPTOR_SIZE * (long) size;
        long used = (avail + 6 + 2L * size + 3) & ~3L;
        this.layout = new QueueLayout(size, desc, avail, used);
        memory.fill(base, used + layout.usedRingBytes() - base, (byte) 0);
        this.nextData = dataBase;
        this.dataEnd = dataEnd;
    }

    /**
     * Puts a queue of {@code size} entries at {@code base}; data buffers go from the next 4 KiB page after the
     * used ring to the end of the RAM region holding {@code base}.
     */
    public VirtqueueDriver(GuestMemory memory, long base, int size) {
        this(memory, base, size, dataStart(base, size), regionEnd(memory, base));
    }

    private static long dataStart(long base, int size) {
        long used = (base + QueueLayout.DESCRIPTOR_SIZE * (long) size + 6 + 2L * size + 3) & ~3L;
        return (used + 6 + 8L * size + 0xfff) & ~0xfffL;
    }

    private static long regionEnd(GuestMemory memory, long base) {
        for (MemoryRegion r : memory.regions()) if (r.contains(base, 1)) return r.end();
        throw new IllegalArgumentException("0x" + Long.toHexString(base) + " is not in guest RAM");
    }

    public GuestMemory memory() { return memory; }

    public QueueLayout layout() { return layout; }

    public int size() { return layout.size(); }

    // ---- data buffers ----

    /** Reserves {@code length} bytes of buffer space (8-byte aligned). */
    public long allocate(int length) {
        return allocate(length, 8);
    }

    /** Reserves {@code length} bytes of buffer space aligned to {@code alignment} (a power of two). */
    public long allocate(long length, int alignment) {
        long at = (nextData + alignment - 1) & -(long) alignment;
        if (length < 0 || at + length > dataEnd) throw new IllegalStateException("test data area full");
        nextData = at + length;
        return at;
    }

    /** Reserves a buffer and fills it with {@code content}. */
    public long allocate(byte[] content) {
        long at = allocate(content.length);
        memory.write(at, content);
        return at;
    }

    // ---- queueing chains ----

    /** Writes a chain into free descriptors, links it with NEXT and publishes it; returns its head. */
    public int addChain(List<Buf> bufs) {
        if (bufs.isEmpty()) throw new IllegalArgumentException("a chain has at least one buffer");
        if (bufs.size() > layout.size()) throw new IllegalArgumentException(bufs.size() + " buffers do not fit a queue of " + layout.size());
        int head = nextDescriptor;
        for (int i = 0; i < bufs.size(); i++) {
            int index = (head + i) % layout.size();
            boolean last = i == bufs.size() - 1;
            Buf b = bufs.get(i);
            writeDescriptor(layout.descriptorTable(), index, b.address(), b.length(),
                    (b.writable() ? DESC_F_WRITE : 0) | (last ? 0 : DESC_F_NEXT), (index + 1) % layout.size());
        }
        nextDescriptor = (head + bufs.size()) % layout.size();
        publish(head);
        return head;
    }

    /** Writes the buffers as an indirect table at {@code table} and publishes one INDIRECT descriptor for it. */
    public int addIndirectChain(long table, List<Buf> bufs) {
        if (bufs.isEmpty()) throw new IllegalArgumentException("a chain has at least one buffer");
        for (int i = 0; i < bufs.size(); i++) {
            Buf b = bufs.get(i);
            boolean last = i == bufs.size() - 1;
            writeDescriptor(table, i, b.address(), b.length(),
                    (b.writable() ? DESC_F_WRITE : 0) | (last ? 0 : DESC_F_NEXT), i + 1);
        }
        int head = nextDescriptor;
        writeDescriptor(layout.descriptorTable(), head, table, QueueLayout.DESCRIPTOR_SIZE * bufs.size(), DESC_F_INDIRECT, 0);
        nextDescriptor = (head + 1) % layout.size();
        publish(head);
        return head;
    }

    /** As {@link #addIndirectChain(long, List)}, with the indirect table allocated from the data area. */
    public int addIndirectChain(List<Buf> bufs) {
        return addIndirectChain(allocate((long) QueueLayout.DESCRIPTOR_SIZE * bufs.size(), 16), bufs);
    }

    // ---- raw access, for hostile tests ----

    /** The guest address of descriptor {@code index} in the queue's descriptor table. */
    public long descriptorAddress(int index) {
        return layout.descriptorTable() + (long) QueueLayout.DESCRIPTOR_SIZE * index;
    }

    /** The guest address of available ring slot {@code slot} (not reduced modulo the size). */
    public long availSlotAddress(int slot) {
        return layout.availRing() + 4 + 2L * slot;
    }

    /** Writes descriptor {@code index} of the table at {@code table} as given. */
    public void writeDescriptor(long table, int index, long address, int length, int flags, int next) {
        long at = table + (long) QueueLayout.DESCRIPTOR_SIZE * index;
        memory.writeLong(at, address);
        memory.writeInt(at + 8, length);
        memory.writeShort(at + 12, (short) flags);
        memory.writeShort(at + 14, (short) next);
    }

    /** Writes descriptor {@code index} of the queue's own table as given. */
    public void writeDescriptor(int index, long address, int length, int flags, int next) {
        writeDescriptor(layout.descriptorTable(), index, address, length, flags, next);
    }

    /** Writes {@code head} into available ring slot {@code slot % size} without moving the index. */
    public void writeAvailEntry(int slot, int head) {
        memory.writeShort(availSlotAddress(slot % layout.size()), (short) head);
    }

    /** Puts {@code head} (any value) in the next avail ring slot and advances the avail index. */
    public void publish(int head) {
        writeAvailEntry(availIdx, head);
        availIdx = (availIdx + 1) & 0xffff;
        memory.writeShort(layout.availRing() + 2, (short) availIdx);
    }

    /** Sets the avail index directly (a hostile driver may move it anywhere). */
    public void setAvailIndex(int index) {
        availIdx = index & 0xffff;
        memory.writeShort(layout.availRing() + 2, (short) availIdx);
    }

    public int availIndex() { return availIdx; }

    // ---- notification suppression ----

    /** Sets or clears VIRTQ_AVAIL_F_NO_INTERRUPT (honoured by the device only without EVENT_IDX). */
    public void setNoInterrupt(boolean on) {
        memory.writeShort(layout.availRing(), (short) (on ? AVAIL_F_NO_INTERRUPT : 0));
    }

    public void clearNoInterrupt() { setNoInterrupt(false); }

    /** Event index: the driver wants an interrupt once the used index moves past {@code usedEvent}. */
    public void setUsedEvent(int usedEvent) {
        memory.writeShort(availSlotAddress(layout.size()), (short) usedEvent);
    }

    /** The used ring's flags: {@link #USED_F_NO_NOTIFY} when the device asks not to be notified. */
    public int usedFlags() { return Short.toUnsignedInt(memory.readShort(layout.usedRing())); }

    /** The avail_event the device left at the end of the used ring (EVENT_IDX). */
    public int availEvent() { return Short.toUnsignedInt(memory.readShort(layout.usedRing() + 4 + 8L * layout.size())); }

    /**
     * Whether a driver that just published up to the current avail index, having been at {@code oldAvailIdx},
     * should notify the device: the flag without EVENT_IDX, vring_need_event on avail_event with it.
     */
    public boolean deviceWantsNotification(int oldAvailIdx, boolean eventIdx) {
        if (!eventIdx) return (usedFlags() & USED_F_NO_NOTIFY) == 0;
        return ((availIdx - availEvent() - 1) & 0xffff) < ((availIdx - oldAvailIdx) & 0xffff);
    }

    // ---- completions ----

    public int usedIndex() { return Short.toUnsignedInt(memory.readShort(layout.usedRing() + 2)); }

    /** The next used entry the device added and this driver has not read yet, or null. */
    public Used nextUsed() {
        if (usedSeen == usedIndex()) return null;
        long entry = layout.usedRing() + 4 + 8L * (usedSeen % layout.size());
        usedSeen = (usedSeen + 1) & 0xffff;
        return new Used(memory.readInt(entry), memory.readInt(entry + 4));
    }

    /** Every used entry the device added since the last call. */
    public List<Used> used() {
        List<Used> out = new ArrayList<>();
        for (Used u; (u = nextUsed()) != null; ) out.add(u);
        return out;
    }

    /** Same as {@link #used()}. */
    public List<Used> takeUsed() { return used(); }
}
