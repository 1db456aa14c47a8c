package org.jhyve.devices.virtio;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.devices.block.MemoryBlockBackend;

/**
 * A disk in memory whose data calls first run a test's hook (which may block, to hold a request in flight, or
 * throw, to fail it), and which counts the calls inside it at once and the most there ever were.
 *
 * <p>Threading: any thread, as {@link BlockBackend}'s; the hook is called on the caller's thread.
 */
final class HookedBlockBackend implements BlockBackend {
    enum Op { READ, WRITE, FLUSH }

    @FunctionalInterface
    interface Hook {
        void before(Op op, long offset) throws IOException;
    }

    final MemoryBlockBackend disk;
    final AtomicInteger inside = new AtomicInteger(), mostInside = new AtomicInteger();
    volatile Hook hook = (op, offset) -> { };

    HookedBlockBackend(int size) {
        this.disk = new MemoryBlockBackend(size, false);
    }

    @Override public long size() { return disk.size(); }

    @Override public boolean readOnly() { return false; }

    @Override
    public void read(long offset, List<MemorySegment> buffers) throws IOException {
        enter(Op.READ, offset);
        try {
            disk.read(offset, buffers);
        } finally {
            inside.decrementAndGet();
        }
    }

    @Override
    public void write(long offset, List<MemorySegment> buffers) throws IOException {
        enter(Op.WRITE, offset);
        try {
            disk.write(offset, buffers);
        } finally {
            inside.decrementAndGet();
        }
    }

    @Override
    public void flush() throws IOException {
        enter(Op.FLUSH, 0);
        try {
            disk.flush();
        } finally {
            inside.decrementAndGet();
        }
    }

    private void enter(Op op, long offset) throws IOException {
        int now = inside.incrementAndGet();
        mostInside.accumulateAndGet(now, Math::max);
        try {
            hook.before(op, offset);
        } catch (IOException | RuntimeException e) {
            inside.decrementAndGet();
            throw e;
        }
    }

    @Override public void discard(long offset, long length) { disk.discard(offset, length); }

    @Override public void writeZeroes(long offset, long length, boolean mayUnmap) { disk.writeZeroes(offset, length, mayUnmap); }

    @Override public void close() {}
}
