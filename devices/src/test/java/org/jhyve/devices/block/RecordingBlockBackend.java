package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A disk in memory for device tests that keeps a log of every write and every data sync, in one order with
 * what the test (as the guest) saw, and models what a host crash would keep: the bytes as they were at the
 * last sync that succeeded ({@link #durable()}). It can also be told to fail chosen calls as the host does
 * (EIO, ENOSPC, a write of which only a part landed).
 *
 * <p>{@link #assertFlushCovered} is the durability rule a device must keep: a FLUSH (or a FUA write, or a
 * write with the write cache off) completes only after a sync that started once every write which had
 * completed before the FLUSH was issued had completed, and that succeeded before the guest saw the
 * completion. Timestamps come from {@link #now()}, one clock shared with the test.
 *
 * <p>Threading: any thread; device workers and the test call it concurrently.
 */
public final class RecordingBlockBackend implements BlockBackend {
    public enum Op { READ, WRITE, SYNC, DISCARD, WRITE_ZEROES }

    /** One call: when it started and ended on {@link #now()}'s clock, what it covered, and whether it worked. */
    public record Event(Op op, long startedAt, long endedAt, long offset, long length, boolean ok) {}

    /** What to do to the {@code call}-th call (counting from 1) of {@code op}: fail with errno, after writing {@code landedBytes}. */
    public record Fault(int errno, long landedBytes) {
        public static Fault eio() { return new Fault(5, 0); }

        public static Fault enospc() { return new Fault(28, 0); }

        /** A short write: the first {@code bytes} reach the disk, then the host says ENOSPC. */
        public static Fault shortWrite(long bytes) { return new Fault(28, bytes); }
    }

    private final byte[] data;
    private byte[] durable;
    private final boolean readOnly;
    private final AtomicLong clock = new AtomicLong();
    private final List<Event> events = new ArrayList<>();
    private final Map<Op, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();

    public RecordingBlockBackend(int size, boolean readOnly) {
        this.data = new byte[size];
        this.durable = new byte[size];
        this.readOnly = readOnly;
    }

    /** The shared clock: each call returns a later instant than every call before it, on any thread. */
    public long now() { return clock.incrementAndGet(); }

    /** Fails the {@code call}-th call of {@code op} (counting every call of it so far, from 1). */
    public void inject(Op op, int call, Fault fault) {
        faults.put(op + "#" + call, fault);
    }

    /** Fails the next call of {@code op}. */
    public void injectNext(Op op, Fault fault) {
        inject(op, calls(op) + 1, fault);
    }

    public int calls(Op op) { return calls.computeIfAbsent(op, k -> new AtomicInteger()).get(); }

    public synchronized List<Event> events() { return List.copyOf(events); }

    public synchronized List<Event> events(Op op) { return events.stream().filter(e -> e.op() == op).toList(); }

    /** The disk as a host crash would leave it: as it was when the last successful sync began. */
    public synchronized byte[] durable() { return durable.clone(); }

    /** The disk as reads see it now. */
    public synchronized byte[] contents() { return data.clone(); }

    /** Puts bytes on the disk without a call being logged (the image as it was before the guest started). */
    public synchronized void preload(int offset, byte[] bytes) {
        System.arraycopy(bytes, 0, data, offset, bytes.length);
        System.arraycopy(bytes, 0, durable, offset, bytes.length);
    }

    @Override public long size() { return data.length; }

    @Override public boolean readOnly() { return readOnly; }

    @Override
    public void read(long offset, List<MemorySegment> buffers) throws IOException {
        long start = now();
        Fault f = fault(Op.READ);
        long length = total(buffers);
        if (f != null) fail(Op.READ, start, offset, length, f);
        synchronized (this) {
            long at = offset;
            for (MemorySegment b : buffers) {
                MemorySegment.copy(data, (int) at, b, ValueLayout.JAVA_BYTE, 0, (int) b.byteSize());
                at += b.byteSize();
            }
        }
        log(Op.READ, start, offset, length, true);
    }

    @Override
    public void write(long offset, List<MemorySegment> buffers) throws IOException {
        long start = now();
        Fault f = fault(Op.WRITE);
        long length = total(buffers);
        long landing = f == null ? length : Math.min(f.landedBytes(), length);
        synchronized (this) {
            long at = offset, left = landing;
            for (MemorySegment b : buffers) {
                int n = (int) Math.min(b.byteSize(), left);
                MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, data, (int) at, n);
                at += n;
                left -= n;
            }
        }
        if (f != null) fail(Op.WRITE, start, offset, length, f);
        log(Op.WRITE, start, offset, length, true);
    }

    /** The sync: what was written before it started becomes durable (the copy is taken at the start). */
    @Override
    public void flush() throws IOException {
        long start = now();
        Fault f = fault(Op.SYNC);
        byte[] snapshot;
        synchronized (this) {
            snapshot = data.clone();
        }
        if (f != null) fail(Op.SYNC, start, 0, 0, f);
        synchronized (this) {
            durable = snapshot;
        }
        log(Op.SYNC, start, 0, 0, true);
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        zero(Op.DISCARD, offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        zero(Op.WRITE_ZEROES, offset, length);
    }

    private void zero(Op op, long offset, long length) throws IOException {
        long start = now();
        Fault f = fault(op);
        if (f != null) fail(op, start, offset, length, f);
        synchronized (this) {
            Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
        }
        log(op, start, offset, length, true);
    }

    @Override
    public void close() {}

    /**
     * The durability rule for one FLUSH (or FUA write) the guest issued at {@code issuedAt} and saw complete
     * at {@code completedAt}: some sync that succeeded started after every write that had completed by
     * {@code issuedAt}, and ended before {@code completedAt}.
     */
    public void assertFlushCovered(String what, long issuedAt, long completedAt) {
        List<Event> log = events();
        long lastWriteDone = log.stream().filter(e -> e.op() == Op.WRITE && e.ok() && e.endedAt() < issuedAt)
                .mapToLong(Event::endedAt).max().orElse(0);
        boolean covered = log.stream().anyMatch(e -> e.op() == Op.SYNC && e.ok() && e.startedAt() > lastWriteDone && e.endedAt() < completedAt);
        assertThat(covered).as("%s (issued at %d, completed at %d): a successful sync after the last write completed before it "
                + "(at %d) and before the completion; log: %s", what, issuedAt, completedAt, lastWriteDone, log).isTrue();
    }

    /** As {@link #assertFlushCovered}, for a write that must itself be durable when it completes (FUA, no write cache). */
    public void assertWriteDurableAtCompletion(String what, long offset, long completedAt) {
        List<Event> log = events();
        Event write = log.stream().filter(e -> e.op() == Op.WRITE && e.ok() && e.offset() == offset && e.endedAt() < completedAt)
                .reduce((a, b) -> b).orElseThrow(() -> new AssertionError(what + ": no completed write at offset " + offset + " in " + log));
        boolean covered = log.stream().anyMatch(e -> e.op() == Op.SYNC && e.ok() && e.startedAt() > write.endedAt() && e.endedAt() < completedAt);
        assertThat(covered).as("%s: a successful sync after its write (ended at %d) and before the completion (at %d); log: %s",
                what, write.endedAt(), completedAt, log).isTrue();
    }

    private Fault fault(Op op) {
        int n = calls.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
        return faults.remove(op + "#" + n);
    }

    private void fail(Op op, long start, long offset, long length, Fault f) throws HostIoException {
        log(op, start, offset, length, false);
        String reason = f.errno() == 28 ? "No space left on device" : f.errno() == 5 ? "Input/output error" : "errno " + f.errno();
        throw new HostIoException("test.img: " + op.name().toLowerCase() + ": " + reason + " (errno " + f.errno() + ", injected)", f.errno());
    }

    private synchronized void log(Op op, long start, long offset, long length, boolean ok) {
        events.add(new Event(op, start, now(), offset, length, ok));
    }

    private static long total(List<MemorySegment> buffers) {
        long t = 0;
        for (MemorySegment b : buffers) t += b.byteSize();
        return t;
    }
}
