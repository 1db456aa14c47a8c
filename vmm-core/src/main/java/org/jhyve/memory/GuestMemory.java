package org.jhyve.memory;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Guest-physical memory, the only way device models and loaders reach guest RAM.
 *
 * <p>Every access checks the whole range {@code [gpa, gpa+len)} against guest RAM, without overflow,
 * and throws {@link GuestMemoryException} naming the guest address when it does not fit. A range may not
 * straddle two regions (real DMA engines do not cross the PCI hole either). Multi-byte values are
 * little-endian, as on x86.
 */
public interface GuestMemory {
    /** The RAM regions, in ascending guest address order. */
    List<MemoryRegion> regions();

    /** Total bytes of guest RAM. */
    default long totalSize() {
        return regions().stream().mapToLong(MemoryRegion::size).sum();
    }

    /**
     * A view of {@code [gpa, gpa+len)} for zero-copy I/O. The view is valid as long as this memory is open.
     *
     * @throws GuestMemoryException if the range is not wholly inside one RAM region
     */
    MemorySegment slice(long gpa, long len);

    /**
     * Keeps the host mapping of guest RAM in place until the returned hold is closed, even if the VM closes
     * meanwhile (see {@link MappingLifetime}). A thread that hands raw host addresses of guest memory to native
     * code (preadv/pwritev on the guest's pages, a tap's readv) holds one for as long as such a call may run: a
     * device worker, for its whole life. Accesses through this interface need none: after the mapping is gone
     * they throw instead of touching it. The default holds nothing, for memory that is never unmapped (the heap).
     *
     * @throws IllegalStateException when the VM has already released guest RAM
     */
    default MappingHold hold() {
        return MappingHold.NONE;
    }

    /** True when {@code [gpa, gpa+len)} lies wholly inside one RAM region. */
    boolean isValid(long gpa, long len);

    byte readByte(long gpa);

    short readShort(long gpa);

    int readInt(long gpa);

    long readLong(long gpa);

    void writeByte(long gpa, byte value);

    void writeShort(long gpa, short value);

    void writeInt(long gpa, int value);

    void writeLong(long gpa, long value);

    /** Copies guest bytes into {@code dst[off, off+len)}. */
    void read(long gpa, byte[] dst, int off, int len);

    /** Copies {@code src[off, off+len)} into guest memory. */
    void write(long gpa, byte[] src, int off, int len);

    default void write(long gpa, byte[] src) {
        write(gpa, src, 0, src.length);
    }

    default byte[] readBytes(long gpa, int len) {
        byte[] out = new byte[len];
        read(gpa, out, 0, len);
        return out;
    }

    /** Fills {@code [gpa, gpa+len)} with {@code value}. */
    void fill(long gpa, long len, byte value);
}
