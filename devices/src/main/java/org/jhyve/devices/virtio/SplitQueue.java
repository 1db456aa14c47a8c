package org.jhyve.devices.virtio;

import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.memory.GuestMemory;

/**
 * The device side of a split virtqueue (virtio 1.2, 2.7): takes descriptor chains off the available ring
 * and puts completions on the used ring, with indirect descriptors and event-index notification suppression
 * when negotiated.
 *
 * <p>The driver is not trusted. Every address it supplies is checked against guest RAM before use, chains
 * are bounded (a loop cannot hang the device), and any rule broken throws {@link VirtqueueException} naming
 * the guest address; the caller then stops using the queue. One thread uses a queue at a time (its {@link QueueWorker}: requests completing on other threads hand their
 * chains back to it rather than touch the rings).
 *
 * <p>Memory ordering follows the spec's barriers: the available index is read before the ring entries and
 * descriptors it publishes (acquire), used entries are written before the used index (release), and the
 * index is published before the driver's notification wishes are read (full fence).
 */
public final class SplitQueue {
    static final int DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4;
    static final int AVAIL_F_NO_INTERRUPT = 1, USED_F_NO_NOTIFY = 1;
    /** An indirect table may hold at most this many descriptors (Linux uses at most a few hundred). */
    public static final int MAX_INDIRECT = 4096;

    private final GuestMemory memory;
    private final QueueLayout layout;
    private final boolean eventIdx;
    private final boolean indirect;
    private final QueueTrace trace;
    private int nextAvail;
    private int nextUsed;
    /** The used index when the driver was last considered for an interrupt (for event-index suppression). */
    private int signalledUsed;

    /**
     * @throws VirtqueueException when the layout is not one the driver may give: size not a power of two up to
     *         32768, misaligned rings, rings outside guest RAM, or a used ring overlapping the other two parts
     */
    public SplitQueue(GuestMemory memory, QueueLayout layout, boolean eventIdx, boolean indirect) throws VirtqueueException {
        this(memory, layout, eventIdx, indirect, QueueTrace.none());
    }

    /** As above; every chain taken is a {@code virtq} line in {@code trace}'s tracer when it traces those. */
    public SplitQueue(GuestMemory memory, QueueLayout layout, boolean eventIdx, boolean indirect, QueueTrace trace) throws VirtqueueException {
        this.memory = memory;
        this.trace = trace;
        this.layout = layout;
        this.eventIdx = eventIdx;
        this.indirect = indirect;
        int size = layout.size();
        if (size < 1 || size > 32768 || Integer.bitCount(size) != 1) throw new VirtqueueException("queue size " + size + " is not a power of two up to 32768");
        checkRing("descriptor table", layout.descriptorTable(), layout.descriptorTableBytes(), 16);
        checkRing("available ring", layout.availRing(), layout.availRingBytes(), 2);
        checkRing("used ring", layout.usedRing(), layout.usedRingBytes(), 4);
        // The device writes the used ring. On top of the available ring or the descriptor table, its own writes
        // would change what it reads next: a used ring whose flags word is the available index makes every
        // notification toggle look like a new chain, and the worker spins without ever waiting (a fuzz finding).
        checkApart("used ring", layout.usedRing(), layout.usedRingBytes(), "available ring", layout.availRing(), layout.availRingBytes());
        checkApart("used ring", layout.usedRing(), layout.usedRingBytes(), "descriptor table", layout.descriptorTable(), layout.descriptorTableBytes());
        // A freshly enabled queue starts at index 0 on both rings (virtio 1.2, 2.7.6 and 2.7.8).
    }

    public QueueLayout layout() { return layout; }

    /** Whether the driver has queued chains this device has not taken yet. */
    public boolean hasAvailable() {
        return availIndex() != nextAvail;
    }

    /**
     * Takes the next chain off the available ring, or returns null when there is none.
     *
     * @throws VirtqueueException when the chain or the ring breaks the rules
     */
    public DescriptorChain pop() throws VirtqueueException {
        int avail = availIndex();
        if (avail == nextAvail) return null;
        if (((avail - nextAvail) & 0xffff) > layout.size()) {
            throw new VirtqueueException(String.format("available index jumped from %d to %d (queue size %d, ring at 0x%x)",
                    nextAvail, avail, layout.size(), layout.availRing()));
        }
        long slot = layout.availRing() + 4 + 2L * (nextAvail % layout.size());
        int head = Short.toUnsignedInt(memory.readShort(slot));
        if (head >= layout.size()) {
            throw new VirtqueueException(String.format("available ring entry at 0x%x names descriptor %d of %d", slot, head, layout.size()));
        }
        List<Descriptor> buffers = walk(head);
        nextAvail = (nextAvail + 1) & 0xffff;
        DescriptorChain chain = DescriptorChain.of(head, buffers, memory);
        trace.popped(chain, buffers.size());
        return chain;
    }

    /** A chain going back to the driver: its head and how many bytes were written to its writable buffers. */
    public record Completion(int head, int written) {}

    /**
     * Returns chain {@code head} to the driver with {@code written} bytes written to its writable buffers. Whatever
     * the device wrote into the chain must be in guest memory before this call: the index it publishes lets the
     * driver read the chain.
     */
    public void addUsed(int head, int written) {
        putUsed(0, head, written);
        publishUsed(1);
    }

    /**
     * Returns several chains at once, visible to the driver together: every element is written before the used
     * index moves, once, past all of them. A frame spread over several receive buffers goes back this way, since
     * a driver that sees its first buffer looks for the others at once (Linux drops the frame if they are missing).
     */
    public void addUsed(List<Completion> completions) {
        if (completions.size() > layout.size()) {
            throw new IllegalArgumentException(completions.size() + " completions at once on a queue of " + layout.size());
        }
        for (int i = 0; i < completions.size(); i++) putUsed(i, completions.get(i).head(), completions.get(i).written());
        publishUsed(completions.size());
    }

    /** Writes used element {@code nextUsed + ahead} without publishing it. */
    private void putUsed(int ahead, int head, int written) {
        long entry = layout.usedRing() + 4 + 8L * ((nextUsed + ahead) % layout.size());
        memory.writeInt(entry, head);
        memory.writeInt(entry + 4, written);
    }

    /** Moves the used index past {@code count} elements written by {@link #putUsed}, after them and after the data. */
    private void publishUsed(int count) {
        if (count == 0) return;
        nextUsed = (nextUsed + count) & 0xffff;
        VarHandle.releaseFence();
        memory.writeShort(layout.usedRing() + 2, (short) nextUsed);
    }

    /**
     * Whether the driver wants an interrupt for the completions added since the last call (the event index it
     * left in the available ring, or its NO_INTERRUPT flag). Call once after a batch of {@link #addUsed}.
     */
    public boolean needsInterrupt() {
        VarHandle.fullFence();
        int old = signalledUsed;
        signalledUsed = nextUsed;
        if (old == nextUsed) return false;
        if (eventIdx) {
            int usedEvent = Short.toUnsignedInt(memory.readShort(layout.availRing() + 4 + 2L * layout.size()));
            // vring_need_event: interrupt if used_event lies in [old, new).
            return ((nextUsed - usedEvent - 1) & 0xffff) < ((nextUsed - old) & 0xffff);
        }
        return (memory.readShort(layout.availRing()) & AVAIL_F_NO_INTERRUPT) == 0;
    }

    /** Asks the driver not to notify while the device is busy taking chains anyway. */
    public void disableNotifications() {
        if (!eventIdx) memory.writeShort(layout.usedRing(), (short) USED_F_NO_NOTIFY);
    }

    /**
     * Asks the driver to notify for the next chain it queues, then checks for chains queued meanwhile: returns
     * true when there are some (the caller should keep taking them rather than wait for a notification).
     */
    public boolean enableNotifications() {
        if (eventIdx) {
            memory.writeShort(layout.usedRing() + 4 + 8L * layout.size(), (short) nextAvail);
        } else {
            memory.writeShort(layout.usedRing(), (short) 0);
        }
        VarHandle.fullFence();
        return hasAvailable();
    }

    private int availIndex() {
        int idx = Short.toUnsignedInt(memory.readShort(layout.availRing() + 2));
        VarHandle.acquireFence();
        return idx;
    }

    private List<Descriptor> walk(int head) throws VirtqueueException {
        List<Descriptor> out = new ArrayList<>();
        long table = layout.descriptorTable();
        int tableSize = layout.size();
        boolean inIndirect = false;
        boolean seenWritable = false;
        int index = head;
        int visited = 0;
        long from = table; // the descriptor whose NEXT led to index (pop checked the head itself)
        while (true) {
            if (index >= tableSize) {
                throw new VirtqueueException(String.format("descriptor at 0x%x chains to index %d of %d", from, index, tableSize));
            }
            if (++visited > tableSize) {
                throw new VirtqueueException(String.format("descriptor chain from head %d loops or exceeds %d entries (table at 0x%x)", head, tableSize, table));
            }
            long at = table + (long) QueueLayout.DESCRIPTOR_SIZE * index;
            long addr = memory.readLong(at);
            int len = memory.readInt(at + 8);
            int flags = Short.toUnsignedInt(memory.readShort(at + 12));
            int next = Short.toUnsignedInt(memory.readShort(at + 14));
            if ((flags & DESC_F_INDIRECT) != 0) {
                if (!indirect) throw new VirtqueueException(String.format("descriptor at 0x%x is indirect, which was not negotiated", at));
                if (inIndirect) throw new VirtqueueException(String.format("descriptor at 0x%x nests an indirect table", at));
                if ((flags & DESC_F_NEXT) != 0) throw new VirtqueueException(String.format("indirect descriptor at 0x%x also has NEXT", at));
                long tableLen = Integer.toUnsignedLong(len);
                if (tableLen == 0 || tableLen % QueueLayout.DESCRIPTOR_SIZE != 0 || tableLen / QueueLayout.DESCRIPTOR_SIZE > MAX_INDIRECT) {
                    throw new VirtqueueException(String.format("indirect table at 0x%x has bad length %d (descriptor at 0x%x)", addr, tableLen, at));
                }
                checkRange("indirect table", addr, tableLen, at);
                if ((addr & 0xf) != 0) throw new VirtqueueException(String.format("indirect table at 0x%x is not 16-byte aligned", addr));
                table = addr;
                tableSize = (int) (tableLen / QueueLayout.DESCRIPTOR_SIZE);
                inIndirect = true;
                visited = 0;
                index = 0;
                continue;
            }
            boolean writable = (flags & DESC_F_WRITE) != 0;
            if (!writable && seenWritable) {
                throw new VirtqueueException(String.format("device-readable descriptor at 0x%x follows a writable one", at));
            }
            seenWritable |= writable;
            if (len != 0) checkRange("buffer", addr, Integer.toUnsignedLong(len), at);
            out.add(new Descriptor(addr, len, writable));
            if ((flags & DESC_F_NEXT) == 0) return out;
            from = at;
            index = next;
        }
    }

    private void checkRange(String what, long addr, long len, long descriptorAt) throws VirtqueueException {
        if (!memory.isValid(addr, len)) {
            throw new VirtqueueException(String.format("%s [0x%x, +%d) of descriptor at 0x%x is outside guest RAM", what, addr, len, descriptorAt));
        }
    }

    private static void checkApart(String what, long addr, long len, String other, long otherAddr, long otherLen) throws VirtqueueException {
        // Both ranges are inside guest RAM (checked first), so the sums cannot overflow.
        if (addr < otherAddr + otherLen && otherAddr < addr + len) {
            throw new VirtqueueException(String.format("%s [0x%x, +%d) overlaps the %s [0x%x, +%d)", what, addr, len, other, otherAddr, otherLen));
        }
    }

    private void checkRing(String what, long addr, long len, int alignment) throws VirtqueueException {
        if ((addr & (alignment - 1)) != 0) throw new VirtqueueException(String.format("%s at 0x%x is not %d-byte aligned", what, addr, alignment));
        if (!memory.isValid(addr, len)) throw new VirtqueueException(String.format("%s [0x%x, +%d) is outside guest RAM", what, addr, len));
    }
}
