package org.jhyve.devices.virtio;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.MemoryRegion;

/**
 * Guest memory that logs every device access, in order, with its address and length, and lets a test look at
 * memory the moment a write lands (a {@link #watch}, run on the writing thread right after the write): to
 * assert what a driver polling the used ring could see when the device published an index. A {@link #slice}
 * counts as a write, {@code "slice"}, since the device may write through it.
 *
 * <p>Thread-safe: the device's threads access memory concurrently; watches run under the log's lock, in order.
 */
final class RecordingGuestMemory implements GuestMemory {
    /** One access: the n-th, at {@code gpa}, {@code length} bytes, by {@code how} ("writeShort", "readInt"...). */
    record Write(int n, long gpa, long length, String how) {
        boolean covers(long at, long len) { return gpa <= at && at + len <= gpa + length; }

        boolean isRead() { return how.startsWith("read"); }
    }

    final GuestMemory inner;
    private final List<Write> accesses = new ArrayList<>();
    private final List<Consumer<Write>> watches = new ArrayList<>();

    RecordingGuestMemory(GuestMemory inner) { this.inner = inner; }

    /** Every write (and slice), in order. */
    synchronized List<Write> writes() { return accesses.stream().filter(a -> !a.isRead()).toList(); }

    /** Every access, reads too, in order. */
    synchronized List<Write> accesses() { return List.copyOf(accesses); }

    /** Runs {@code watch} after every later write, with the write (look at memory through {@link #inner}). */
    synchronized void watch(Consumer<Write> watch) { watches.add(watch); }

    private synchronized void log(long gpa, long length, String how) {
        Write w = new Write(accesses.size(), gpa, length, how);
        accesses.add(w);
        if (!w.isRead()) for (Consumer<Write> watch : watches) watch.accept(w);
    }

    @Override public List<MemoryRegion> regions() { return inner.regions(); }
    @Override public boolean isValid(long gpa, long len) { return inner.isValid(gpa, len); }
    @Override public byte readByte(long gpa) { log(gpa, 1, "readByte"); return inner.readByte(gpa); }
    @Override public short readShort(long gpa) { log(gpa, 2, "readShort"); return inner.readShort(gpa); }
    @Override public int readInt(long gpa) { log(gpa, 4, "readInt"); return inner.readInt(gpa); }
    @Override public long readLong(long gpa) { log(gpa, 8, "readLong"); return inner.readLong(gpa); }
    @Override public void read(long gpa, byte[] dst, int off, int len) { log(gpa, len, "read"); inner.read(gpa, dst, off, len); }

    @Override
    public MemorySegment slice(long gpa, long len) {
        MemorySegment s = inner.slice(gpa, len);
        log(gpa, len, "slice");
        return s;
    }

    @Override public void writeByte(long gpa, byte v) { inner.writeByte(gpa, v); log(gpa, 1, "writeByte"); }
    @Override public void writeShort(long gpa, short v) { inner.writeShort(gpa, v); log(gpa, 2, "writeShort"); }
    @Override public void writeInt(long gpa, int v) { inner.writeInt(gpa, v); log(gpa, 4, "writeInt"); }
    @Override public void writeLong(long gpa, long v) { inner.writeLong(gpa, v); log(gpa, 8, "writeLong"); }
    @Override public void write(long gpa, byte[] src, int off, int len) { inner.write(gpa, src, off, len); log(gpa, len, "write"); }
    @Override public void fill(long gpa, long len, byte value) { inner.fill(gpa, len, value); log(gpa, len, "fill"); }
}
