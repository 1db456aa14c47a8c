package org.jhyve.devices.block;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.devices.block.BlockRequest.Read;
import org.jhyve.devices.block.BlockRequest.Write;
import org.jhyve.posix.Errno;
import org.jhyve.posix.ErrnoException;
import org.jhyve.posix.IoUring;
import org.jhyve.posix.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link BlockEngine} that reads and writes an image file through io_uring: the submitting thread (a queue
 * worker) puts each request in the ring and goes on, and one reaper thread per engine takes the completions as the
 * kernel posts them, many per wake-up. No thread waits in a read or write, and no hand-over to an I/O thread is
 * needed on the way in, which is what a thread pool spends most of its time on at high queue depths.
 *
 * <p>Only reads, and writes without force unit access, whose buffers the kernel takes as they are ({@link
 * FileBlockBackend#canGoDirect}) go through the ring. A write holds its blocks ({@link BlockRangeLocks}, which no
 * thread owns) from its submission until the reaper has its completion, so that a merging write of the same
 * blocks (a partial block, on the pool) waits for it; a write goes to the kernel at once even within a batch, since
 * the blocks it holds may be what its own submitter waits for next. Everything else goes to {@code fallback} (the
 * thread pool): merging and bounce-buffered writes, FUA writes, flushes, discards, and a request the kernel
 * returned short (the pool's preadv/pwritev continues short transfers).
 *
 * <p>Threading: {@link BlockEngine}'s. Slots are taken and given back under a short lock; submissions take a second
 * lock around the ring's submission side (io_uring_enter), so the reaper never waits for a system call of theirs;
 * the reaper alone uses the completion side, and calls the completions. The image's descriptor is held ({@link HostFile#enter})
 * from each submission to its completion, so closing the image waits for the kernel to be done with it.
 */
public final class IoUringBlockEngine implements BlockEngine {
    private static final Logger log = LoggerFactory.getLogger(IoUringBlockEngine.class);
    /** Reads in the ring at once; more wait in the fallback engine. A virtio-blk queue has 256 entries. */
    static final int ENTRIES = 256;
    /** The most buffers a read through the ring may have (its iovecs are kept per slot); more go to the fallback. */
    static final int MAX_IOVECS = 64;
    /** The user data of the no-op that wakes the reaper to end. */
    private static final long WAKE = -1;

    private final String name;
    private final BlockExecutor executor;
    private final FileBlockBackend backend;
    private final BlockEngine fallback;
    private final IoUring ring;
    private final Arena arena = Arena.ofShared();
    /** Guards the slots and {@link #closed}; held only briefly, never across a system call. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Guards the ring's submission side (one submitter at a time), and {@link #batches}. */
    private final ReentrantLock submitLock = new ReentrantLock();
    /** Batches open ({@link #beginBatch}): while there are any, prepared reads wait for the last to end. */
    private int batches;
    // Per slot; a slot is owned by the submitter until submitted, then by the reaper until freed (under lock).
    private final BlockRequest[] requests = new BlockRequest[ENTRIES];
    private final BlockCompletion[] completions = new BlockCompletion[ENTRIES];
    /** A write's blocks (BlockRangeLocks), taken by its submitter and released by the reaper; null for a read. */
    private final BlockRangeLocks.Hold[] holds = new BlockRangeLocks.Hold[ENTRIES];
    private final MemorySegment[] iovecs = new MemorySegment[ENTRIES];
    // Guarded by lock.
    private final int[] freeSlots = new int[ENTRIES];
    private int freeCount;
    private int inFlight;
    private boolean closed;

    private IoUringBlockEngine(String name, BlockExecutor executor, FileBlockBackend backend, BlockEngine fallback, IoUring ring) {
        this.name = name;
        this.executor = executor;
        this.backend = backend;
        this.fallback = fallback;
        this.ring = ring;
        for (int i = 0; i < ENTRIES; i++) freeSlots[freeCount++] = ENTRIES - 1 - i;
        Thread.ofPlatform().name(name + "-uring").daemon().start(this::reap);
    }

    /**
     * An engine reading {@code backend} through io_uring, with {@code fallback} for the rest; {@code fallback} itself
     * where the host has no io_uring for us (an old kernel, a seccomp filter, kernel.io_uring_disabled).
     */
    public static BlockEngine open(String name, BlockExecutor executor, FileBlockBackend backend, BlockEngine fallback) {
        IoUring ring;
        try {
            ring = IoUring.open(ENTRIES);
        } catch (ErrnoException | UnsatisfiedLinkError e) {
            log.info("{}: no io_uring ({}): requests go through I/O threads", name, e.getMessage());
            return fallback;
        }
        return new IoUringBlockEngine(name, executor, backend, fallback, ring);
    }

    @Override
    public void submit(BlockRequest request, BlockCompletion done) {
        // Reads, and writes that need neither a merge nor a flush after them, go through the ring.
        long sector, bytes;
        DataBuffers data;
        switch (request) {
            case Read(long s, long b, DataBuffers d) -> {
                sector = s;
                bytes = b;
                data = d;
            }
            case Write(long s, long b, DataBuffers d, boolean forceUnitAccess) when !forceUnitAccess -> {
                sector = s;
                bytes = b;
                data = d;
            }
            default -> {
                refuseIfClosed();
                fallback.submit(request, done);
                return;
            }
        }
        BlockOutcome checked = executor.check(request);
        if (checked != BlockOutcome.OK) {
            done.completed(checked);
            return;
        }
        List<MemorySegment> buffers;
        try {
            buffers = data.segments(bytes);
        } catch (RuntimeException e) {
            done.failed(e);
            return;
        }
        long offset = executor.offset(sector);
        if (bytes == 0 || buffers.size() > MAX_IOVECS || !backend.canGoDirect(offset, buffers) || !submitToRing(request, buffers, offset, done)) {
            fallback.submit(request, done);
        }
    }

    private static long bytesOf(BlockRequest request) {
        return request instanceof Read r ? r.bytes() : ((Write) request).bytes();
    }

    /** Puts the read or write in the ring; false when the ring has no free slot (the caller takes another way). */
    private boolean submitToRing(BlockRequest request, List<MemorySegment> buffers, long offset, BlockCompletion done) {
        int slot;
        lock.lock();
        try {
            if (closed) throw new IllegalStateException(name + ": I/O engine closed");
            if (freeCount == 0) return false;
            slot = freeSlots[--freeCount];
            requests[slot] = request;
            completions[slot] = done;
            inFlight++;
        } finally {
            lock.unlock();
        }
        boolean write = request instanceof Write;
        try {
            backend.file().enter();
        } catch (IOException e) {
            release(slot);
            done.completed(executor.hostFailed(request, e)); // the image is closed: the VM is going away
            return true;
        }
        // A write holds its blocks against a merge of the same blocks until the kernel is done with it (the
        // completion thread releases them). Taken on this thread: it waits here for a merge in progress.
        if (write) holds[slot] = backend.lockForDirectWrite(offset, bytesOf(request));
        MemorySegment iov = iovecs[slot];
        if (iov == null) iov = iovecs[slot] = arena.allocate(Libc.IOVEC_BYTES * MAX_IOVECS, 8);
        for (int i = 0; i < buffers.size(); i++) {
            iov.set(ADDRESS, Libc.IOVEC_BYTES * i + Libc.IOVEC_BASE, buffers.get(i));
            iov.set(JAVA_LONG, Libc.IOVEC_BYTES * i + Libc.IOVEC_LEN, buffers.get(i).byteSize());
        }
        // Its own lock, not the slots': the reaper never waits for a submitter inside io_uring_enter.
        submitLock.lock();
        try {
            // The ring has a submission entry for every slot, and a successful submit empties it: this cannot fail.
            if (!ring.prepare(write ? IoUring.OP_WRITEV : IoUring.OP_READV, backend.file().descriptor(), iov, buffers.size(), offset, 0, slot)) {
                throw new IllegalStateException(name + ": io_uring submission ring full with a free slot");
            }
            // A write goes to the kernel at once, batch or not: it holds blocks that a merge on a pool thread may be
            // waiting for, and this thread could be the next to wait for that merge (a write of the same blocks).
            if (batches == 0 || write) enterRing();
        } finally {
            submitLock.unlock();
        }
        return true;
    }

    @Override
    public void beginBatch() {
        submitLock.lock();
        try {
            batches++;
        } finally {
            submitLock.unlock();
        }
    }

    @Override
    public void endBatch() {
        submitLock.lock();
        try {
            if (batches > 0 && --batches == 0) enterRing();
        } finally {
            submitLock.unlock();
        }
    }

    /**
     * Hands the prepared reads to the kernel; the caller holds {@link #submitLock}. Whatever the kernel did not take
     * is taken back and goes the other way, so nothing runs twice.
     */
    private void enterRing() {
        List<Integer> withdrawn;
        try {
            ring.submit();
            return;
        } catch (ErrnoException e) {
            log.warn("{}: io_uring_enter failed ({}): those reads go through I/O threads", name, e.getMessage());
            List<Integer> back = new ArrayList<>();
            ring.unsubmitted(userData -> back.add((int) userData));
            withdrawn = back;
        }
        for (int w : withdrawn) {
            BlockRequest r;
            BlockCompletion c;
            BlockRangeLocks.Hold hold;
            lock.lock();
            try {
                r = requests[w];
                c = completions[w];
                hold = holds[w];
                holds[w] = null;
            } finally {
                lock.unlock();
            }
            if (hold != null) hold.close();
            backend.file().exit();
            release(w);
            fallback.submit(r, c);
        }
    }

    /** The reaper: completes what the kernel finished until the engine is closed and nothing is in flight. */
    private void reap() {
        try {
            while (true) {
                try {
                    ring.awaitCompletions();
                } catch (ErrnoException e) {
                    log.error("{}: waiting for io_uring completions failed: {}", name, e.getMessage());
                    pause();
                }
                ring.reap(this::completed);
                lock.lock();
                try {
                    if (closed && inFlight == 0) return;
                } finally {
                    lock.unlock();
                }
            }
        } finally {
            ring.close();
            arena.close();
            fallback.close();
        }
    }

    private void completed(long userData, int result) {
        if (userData == WAKE) return;
        int slot = (int) userData;
        BlockRequest request;
        BlockCompletion done;
        BlockRangeLocks.Hold hold;
        lock.lock(); // also orders the submitter's writes of the slot before these reads
        try {
            request = requests[slot];
            done = completions[slot];
            hold = holds[slot];
            holds[slot] = null;
        } finally {
            lock.unlock();
        }
        // The blocks are free once the kernel has written them: before the completion, which may start a merge.
        if (hold != null) hold.close();
        backend.file().exit();
        release(slot);
        if (result == bytesOf(request)) {
            complete(done, BlockOutcome.OK);
        } else if (result < 0 && result != -Errno.EINTR && result != -Errno.EAGAIN) {
            String call = request instanceof Write ? "pwritev" : "preadv";
            complete(done, executor.hostFailed(request, new HostIoException(backend.file().path(), call, -result)));
        } else {
            // Short, or to be tried again: the pool's preadv/pwritev continues where the kernel stopped (a rewrite
            // of bytes already written writes the same bytes).
            fallback.submit(request, done);
        }
    }

    private void release(int slot) {
        lock.lock();
        try {
            requests[slot] = null;
            completions[slot] = null;
            freeSlots[freeCount++] = slot;
            inFlight--;
        } finally {
            lock.unlock();
        }
    }

    private void complete(BlockCompletion done, BlockOutcome outcome) {
        try {
            done.completed(outcome);
        } catch (RuntimeException e) {
            log.error("{}: a request's completion failed: {}", name, e, e);
        }
    }

    private void refuseIfClosed() {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException(name + ": I/O engine closed");
        } finally {
            lock.unlock();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops taking requests; the reaper ends once the reads in the ring have completed, and closes the fallback. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
        } finally {
            lock.unlock();
        }
        submitLock.lock();
        try {
            if (ring.prepare(IoUring.OP_NOP, -1, MemorySegment.NULL, 0, 0, 0, WAKE)) ring.submit();
        } catch (ErrnoException e) {
            log.error("{}: could not wake the io_uring reaper: {}", name, e.getMessage());
        } finally {
            submitLock.unlock();
        }
    }
}
