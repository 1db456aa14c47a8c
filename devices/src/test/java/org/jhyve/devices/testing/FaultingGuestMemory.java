package org.jhyve.devices.testing;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.LongPredicate;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.MemoryRegion;
import org.jhyve.memory.MappingHold;

/**
 * Guest memory whose writes at chosen addresses throw an unchecked exception that is not a
 * {@link org.jhyve.memory.GuestMemoryException}, as a mapping closed under a device would
 * ({@code IllegalStateException: Already closed}): for tests that a device thread survives what it did not
 * expect. Everything else goes to the memory it wraps.
 */
public final class FaultingGuestMemory implements GuestMemory {
    private final GuestMemory base;
    private volatile LongPredicate failWritesAt = gpa -> false;

    public FaultingGuestMemory(GuestMemory base) {
        this.base = base;
    }

    /** Writes whose start address {@code where} accepts throw from now on. */
    public void failWrites(LongPredicate where) {
        failWritesAt = where;
    }

    private void check(long gpa) {
        if (failWritesAt.test(gpa)) throw new IllegalStateException("Already closed (injected at guest address 0x" + Long.toHexString(gpa) + ")");
    }

    @Override public List<MemoryRegion> regions() { return base.regions(); }

    @Override public MemorySegment slice(long gpa, long len) { return base.slice(gpa, len); }

    @Override public boolean isValid(long gpa, long len) { return base.isValid(gpa, len); }

    @Override public MappingHold hold() { return base.hold(); }

    @Override public byte readByte(long gpa) { return base.readByte(gpa); }

    @Override public short readShort(long gpa) { return base.readShort(gpa); }

    @Override public int readInt(long gpa) { return base.readInt(gpa); }

    @Override public long readLong(long gpa) { return base.readLong(gpa); }

    @Override public void writeByte(long gpa, byte value) { check(gpa); base.writeByte(gpa, value); }

    @Override public void writeShort(long gpa, short value) { check(gpa); base.writeShort(gpa, value); }

    @Override public void writeInt(long gpa, int value) { check(gpa); base.writeInt(gpa, value); }

    @Override public void writeLong(long gpa, long value) { check(gpa); base.writeLong(gpa, value); }

    @Override public void read(long gpa, byte[] dst, int off, int len) { base.read(gpa, dst, off, len); }

    @Override public void write(long gpa, byte[] src, int off, int len) { check(gpa); base.write(gpa, src, off, len); }

    @Override public void fill(long gpa, long len, byte value) { check(gpa); base.fill(gpa, len, value); }
}
