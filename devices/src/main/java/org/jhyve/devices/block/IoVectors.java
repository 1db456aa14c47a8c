package org.jhyve.devices.block;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jhyve.posix.Libc;

/**
 * The iovec array (struct iovec: base, length) of one preadv/pwritev request, used up from the front. The
 * kernel may move fewer bytes than asked (a short read or write: a signal, a full file system, the end of
 * a file); {@link #advance} then drops the iovecs it completed and shortens the one it stopped in, so the
 * next call continues exactly where the last one ended. Empty buffers are skipped, so a request is done
 * exactly when every byte has moved.
 *
 * <p>Not thread-safe: one per request, on the thread doing it.
 */
final class IoVectors {
    /** {@code struct iovec}: base, then length. */
    private static final long IOVEC = Libc.IOVEC_BYTES, BASE = Libc.IOVEC_BASE, LEN = Libc.IOVEC_LEN;

    private final MemorySegment iov;
    private final int count;
    private int first;
    private long remaining;

    /** Lays out iovecs for {@code buffers} (native segments) in {@code arena}. */
    IoVectors(Arena arena, List<MemorySegment> buffers) {
        this(arena.allocate(IOVEC * Math.max(1, buffers.size()), 8), buffers);
    }

    /** Lays out iovecs for {@code buffers} in {@code space}, which holds at least {@link #bytesFor} of them. */
    IoVectors(MemorySegment space, List<MemorySegment> buffers) {
        this.count = buffers.size();
        if (space.byteSize() < bytesFor(count)) throw new IllegalArgumentException(count + " iovecs do not fit in " + space.byteSize() + " bytes");
        this.iov = space;
        for (int i = 0; i < count; i++) {
            MemorySegment b = buffers.get(i);
            if (!b.isNative()) throw new IllegalArgumentException("host I/O needs native memory");
            iov.set(ADDRESS, IOVEC * i + BASE, b);
            iov.set(JAVA_LONG, IOVEC * i + LEN, b.byteSize());
            remaining += b.byteSize();
        }
        skipEmpty();
    }

    /** Bytes of the iovecs for {@code buffers} buffers. */
    static long bytesFor(int buffers) {
        return IOVEC * Math.max(1, buffers);
    }

    /** Whether every byte has moved. */
    boolean done() { return remaining == 0; }

    /** Bytes not moved yet. */
    long remaining() { return remaining; }

    /** The first iovec not completed, for the next call. */
    MemorySegment next() { return iov.asSlice(IOVEC * first); }

    /** How many iovecs the next call takes: the rest, at most {@code max} (the kernel's IOV_MAX). */
    int batch(int max) { return Math.min(count - first, max); }

    /** Records that the last call moved {@code moved} bytes (at most what its batch holds). */
    void advance(long moved) {
        if (moved < 0 || moved > remaining) throw new IllegalArgumentException(moved + " bytes moved, " + remaining + " were left");
        remaining -= moved;
        while (moved > 0) {
            long len = length(first);
            if (moved >= len) {
                moved -= len;
                first++;
            } else {
                MemorySegment base = iov.get(ADDRESS, IOVEC * first + BASE);
                iov.set(ADDRESS, IOVEC * first + BASE, MemorySegment.ofAddress(base.address() + moved));
                iov.set(JAVA_LONG, IOVEC * first + LEN, len - moved);
                moved = 0;
            }
        }
        skipEmpty();
    }

    /** The base address and length of the iovec {@code i} places after the first one left, for tests. */
    long[] peek(int i) {
        return new long[] {iov.get(ADDRESS, IOVEC * (first + i) + BASE).address(), length(first + i)};
    }

    private long length(int i) {
        return iov.get(JAVA_LONG, IOVEC * i + LEN);
    }

    private void skipEmpty() {
        while (first < count && length(first) == 0) first++;
    }
}
