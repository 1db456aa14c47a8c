package org.jhyve.devices.virtio;

/**
 * Where the driver put a split virtqueue: {@code size} entries, the descriptor table, the available ("driver")
 * ring and the used ("device") ring, all guest-physical addresses.
 */
public record QueueLayout(int size, long descriptorTable, long availRing, long usedRing) {
    public static final int DESCRIPTOR_SIZE = 16;

    public long descriptorTableBytes() { return (long) size * DESCRIPTOR_SIZE; }

    /** flags, idx, ring[size], used_event. */
    public long availRingBytes() { return 6 + 2L * size; }

    /** flags, idx, ring[size] of {id, len}, avail_event. */
    public long usedRingBytes() { return 6 + 8L * size; }
}
