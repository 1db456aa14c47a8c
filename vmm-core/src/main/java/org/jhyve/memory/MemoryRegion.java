package org.jhyve.memory;

import java.lang.foreign.MemorySegment;

/** One contiguous run of guest RAM: guest-physical base address and the host memory behind it. */
public record MemoryRegion(long guestAddress, MemorySegment host) {
    public MemoryRegion {
        if (guestAddress < 0) throw new IllegalArgumentException("negative guest address");
        if (Long.MAX_VALUE - guestAddress < host.byteSize()) throw new IllegalArgumentException("region wraps");
    }

    public long size() { return host.byteSize(); }

    /** First guest address past this region. */
    public long end() { return guestAddress + host.byteSize(); }

    /** True when all of {@code [gpa, gpa+len)} lies inside this region; written so that no sum can overflow. */
    public boolean contains(long gpa, long len) {
        return gpa >= guestAddress && len >= 0 && gpa - guestAddress <= size() && len <= size() - (gpa - guestAddress);
    }
}
