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
import org.jhyve.posix.Errno;
import org.jhyve.posix.ErrnoException;
import org.jhyve.posix.IoUring;
import org.jhyve.posix.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link BlockEngine} that reads an image file through io_uring: the submitting thread (a queue worker) puts
 * each read in the ring and goes on, and one reaper thread per engine takes the completions as the kernel
 * posts them, many per wake-up. No thread waits in a read, and no hand-over to an I/O thread is needed on the way
 * in, which is what a thread pool spends most of its time on at high queue depths.
 *
 * <p>Only reads whose buffers the kernel takes as they are ({@link FileBlockBackend#canGoDirect}) go through the
 * ring. Everything else goes to {@code fallback} (the thread pool), as does a read the kernel returned short (the
 * pool's preadv continues short transfers): writes under O_DIRECT hold {@link BlockRangeLocks} for the whole
 * transfer, which are owned by the thread taking them and so cannot be released by the reaper, and flushes,
 * discards and bounce-buffered transfers are rare enough not to matter.
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
    private final Read[] requests = new Read[ENTRIES];
    private final BlockCompletion[] completions = new BlockCompletion[ENTRIES];
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
        if (!(request instanceof Read read)) {
            refuseIfClosed();
            fallback.submit(request, done);
            return;
        }
        BlockOutcome checked = executor.check(read);
        if (checked != BlockOutcome.OK) {
            done.completed(checked);
            return;
        }
        List<MemorySegment> buffers;
        try {
            buffers = read.data().segments(read.bytes());
        } catch (RuntimeException e) {
            done.failed(e);
            return;
        }
        long offset = executor.offset(read.sector());
        if (read.bytes() == 0 || buffers.size() > MAX_IOVECS || !backend.canGoDirect(offset, buffers) || !submitToRing(read, buffers, offset, done)) {
            fallback.submit(request, done);
        }
    }

    /** Puts the read in the ring; false when the ring has no free slot (the caller takes another way). */
    private boolean submitToRing(Read read, List<MemorySegment> buffers, long offset, BlockCompletion done) {
        int slot;
        lock.lock();
        try {
            if (closed) throw new IllegalStateException(name + ": I/O engine closed");
            if (freeCount == 0) return false;
            slot = freeSlots[--freeCount];
            requests[slot] = read;
            completions[slot] = done;
            inFlight++;
        } finally {
            lock.unlock();
        }
        try {
            backend.file().enter();
        } catch (IOException e) {
            release(slot);
            done.completed(executor.hostFailed(read, e)); // the image is closed: the VM is going away
            return true;
        }
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
            if (!ring.prepare(IoUring.OP_READV, backend.file().descriptor(), iov, buffers.size(), offset, 0, slot)) {
                throw new IllegalStateException(name + ": io_uring submission ring full with a free slot");
            }
            if (batches == 0) enterRing();
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
            Read r;
            BlockCompletion c;
            lock.lock();
            try {
                r = requests[w];
                c = completions[w];
            } finally {
                lock.unlock();
            }
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
        Read read;
        BlockCompletion done;
        lock.lock(); // also orders the submitter's writes of the slot before these reads
        try {
            read = requests[slot];
            done = completions[slot];
        } finally {
            lock.unlock();
        }
        backend.file().exit();
        release(slot);
        if (result == read.bytes()) {
            complete(done, BlockOutcome.OK);
        } else if (result < 0 && result != -Errno.EINTR && result != -Errno.EAGAIN) {
            complete(done, executor.hostFailed(read, new HostIoException(backend.file().path(), "preadv", -result)));
        } else {
            fallback.submit(read, done); // short, or to be tried again: preadv continues where the kernel stopped
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
