package org.jhyve.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@link GuestMemory} over memory segments: heap arrays in unit tests, mmap'd host memory under a hypervisor.
 * Regions are kept sorted and disjoint; lookup is a short linear scan because a VM has at most a handful.
 */
public final class SegmentGuestMemory implements GuestMemory {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemoryRegion[] regions;
    /** When the host mapping may go; null for memory nobody unmaps under a reader (heap, a test's own arena). */
    private final MappingLifetime lifetime;

    public SegmentGuestMemory(List<MemoryRegion> regions) {
        this(regions, null);
    }

    /** Memory whose host mapping {@code lifetime} releases; {@link #hold} keeps it. */
    public SegmentGuestMemory(List<MemoryRegion> regions, MappingLifetime lifetime) {
        this.lifetime = lifetime;
        List<MemoryRegion> sorted = new ArrayList<>(regions);
        sorted.sort(Comparator.comparingLong(MemoryRegion::guestAddress));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).guestAddress() < sorted.get(i - 1).end()) {
                throw new IllegalArgumentException("guest memory regions overlap at 0x"
                        + Long.toHexString(sorted.get(i).guestAddress()));
            }
        }
        this.regions = sorted.toArray(MemoryRegion[]::new);
    }

    /** Heap-backed memory laid out like a real machine of {@code size} bytes; for tests and tools. */
    public static SegmentGuestMemory onHeap(long size) {
        List<MemoryRegion> regions = new ArrayList<>();
        for (MemoryLayout.Range r : MemoryLayout.ramRanges(size)) {
            regions.add(new MemoryRegion(r.guestAddress(), Arena.ofAuto().allocate(r.size(), 4096)));
        }
        return new SegmentGuestMemory(regions);
    }

    @Override
    public MappingHold hold() {
        return lifetime == null ? MappingHold.NONE : lifetime.hold();
    }

    @Override
    public List<MemoryRegion> regions() {
        return List.of(regions);
    }

    private MemoryRegion find(long gpa, long len) {
        for (MemoryRegion r : regions) {
            if (r.contains(gpa, len)) return r;
        }
        throw new GuestMemoryException(gpa, len);
    }

    @Override
    public boolean isValid(long gpa, long len) {
        for (MemoryRegion r : regions) {
            if (r.contains(gpa, len)) return true;
        }
        return false;
    }

    @Override
    public MemorySegment slice(long gpa, long len) {
        MemoryRegion r = find(gpa, len);
        return r.host().asSlice(gpa - r.guestAddress(), len);
    }

    @Override
    public byte readByte(long gpa) {
        MemoryRegion r = find(gpa, 1);
        return r.host().get(ValueLayout.JAVA_BYTE, gpa - r.guestAddress());
    }

    @Override
    public short readShort(long gpa) {
        MemoryRegion r = find(gpa, 2);
        return r.host().get(SHORT, gpa - r.guestAddress());
    }

    @Override
    public int readInt(long gpa) {
        MemoryRegion r = find(gpa, 4);
        return r.host().get(INT, gpa - r.guestAddress());
    }

    @Override
    public long readLong(long gpa) {
        MemoryRegion r = find(gpa, 8);
        return r.host().get(LONG, gpa - r.guestAddress());
    }

    @Override
    public void writeByte(long gpa, byte value) {
        MemoryRegion r = find(gpa, 1);
        r.host().set(ValueLayout.JAVA_BYTE, gpa - r.guestAddress(), value);
    }

    @Override
    public void writeShort(long gpa, short value) {
        MemoryRegion r = find(gpa, 2);
        r.host().set(SHORT, gpa - r.guestAddress(), value);
    }

    @Override
    public void writeInt(long gpa, int value) {
        MemoryRegion r = find(gpa, 4);
        r.host().set(INT, gpa - r.guestAddress(), value);
    }

    @Override
    public void writeLong(long gpa, long value) {
        MemoryRegion r = find(gpa, 8);
        r.host().set(LONG, gpa - r.guestAddress(), value);
    }

    @Override
    public void read(long gpa, byte[] dst, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, dst.length);
        MemorySegment.copy(slice(gpa, len), ValueLayout.JAVA_BYTE, 0, dst, off, len);
    }

    @Override
    public void write(long gpa, byte[] src, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, src.length);
        MemorySegment.copy(src, off, slice(gpa, len), ValueLayout.JAVA_BYTE, 0, len);
    }

    @Override
    public void fill(long gpa, long len, byte value) {
        slice(gpa, len).fill(value);
    }
}
