package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.function.LongConsumer;

/**
 * A Linux io_uring (io_uring_setup(2), io_uring_enter(2)): a submission ring and a completion ring shared with
 * the kernel through mmap, so that many reads and writes are in flight from one thread without a thread each.
 * Only what jhyve's disks use: vectored reads and writes, fdatasync, and a no-op to wake a waiting reaper.
 *
 * <p>The rings' indices are shared with the kernel: the submitter publishes a submission entry with a release
 * store of the tail after filling it, and reads the kernel's head with an acquire load; the reaper reads the
 * completion tail with an acquire load before the entries it covers, and hands entries back with a release
 * store of the head (io_uring(7), "memory ordering").
 *
 * <p>Threading rule: the submission side ({@link #prepare}, {@link #submit}, {@link #unsubmitted}) is used by one
 * thread at a time (the caller's lock); the completion side ({@link #awaitCompletions}, {@link #reap}) by one
 * thread, the reaper, which may run alongside the submitter. {@link #close} comes once, after both have stopped.
 */
public final class IoUring implements AutoCloseable {
    public static final byte OP_NOP = 0, OP_READV = 1, OP_WRITEV = 2, OP_FSYNC = 3;
    /** The fsync flag that makes {@link #OP_FSYNC} an fdatasync. */
    public static final int FSYNC_DATASYNC = 1;

    private static final int ENTER_GETEVENTS = 1;
    private static final int FEAT_SINGLE_MMAP = 1;
    private static final long OFF_SQ_RING = 0, OFF_CQ_RING = 0x8000000L, OFF_SQES = 0x10000000L;
    private static final long SQE_BYTES = 64, CQE_BYTES = 16;
    /** struct io_uring_params: its size, and where its fields and the two offset structs are. */
    private static final long PARAMS_BYTES = 120, P_SQ_ENTRIES = 0, P_CQ_ENTRIES = 4, P_FEATURES = 20, P_SQ_OFF = 40, P_CQ_OFF = 80;
    /** struct io_sqring_offsets and io_cqring_offsets fields, from their start. */
    private static final long O_HEAD = 0, O_TAIL = 4, O_RING_MASK = 8, SQ_O_ARRAY = 24, CQ_O_CQES = 20;
    private static final VarHandle INT = JAVA_INT.varHandle();

    /** What {@link #reap} hands each completion to: the entry's user data and its result (bytes, or -errno). */
    @FunctionalInterface
    public interface Completions {
        void completed(long userData, int result);
    }

    private final int fd;
    private final MemorySegment sqRing, cqRing, sqes;
    private final long sqHead, sqTail, sqArray, cqHead, cqTail, cqes;
    private final int sqMask, cqMask, sqEntries;
    /** The submitter's own copy of the submission tail (the kernel never writes it). */
    private int tail;

    private IoUring(int fd, MemorySegment params, MemorySegment sqRing, MemorySegment cqRing, MemorySegment sqes) {
        this.fd = fd;
        this.sqRing = sqRing;
        this.cqRing = cqRing;
        this.sqes = sqes;
        this.sqHead = params.get(JAVA_INT, P_SQ_OFF + O_HEAD);
        this.sqTail = params.get(JAVA_INT, P_SQ_OFF + O_TAIL);
        this.sqArray = params.get(JAVA_INT, P_SQ_OFF + SQ_O_ARRAY);
        this.sqMask = sqRing.get(JAVA_INT, params.get(JAVA_INT, P_SQ_OFF + O_RING_MASK));
        this.cqHead = params.get(JAVA_INT, P_CQ_OFF + O_HEAD);
        this.cqTail = params.get(JAVA_INT, P_CQ_OFF + O_TAIL);
        this.cqes = params.get(JAVA_INT, P_CQ_OFF + CQ_O_CQES);
        this.cqMask = cqRing.get(JAVA_INT, params.get(JAVA_INT, P_CQ_OFF + O_RING_MASK));
        this.sqEntries = params.get(JAVA_INT, P_SQ_ENTRIES);
        this.tail = (int) INT.getAcquire(sqRing, sqTail);
    }

    /**
     * Sets up a ring of at least {@code entries} submission entries (a power of two; the completion ring is twice
     * as large, so it cannot overflow while at most {@link #entries} are in flight).
     *
     * @throws ErrnoException when the kernel has no io_uring or refuses one (ENOSYS; EPERM under a seccomp filter
     *         or with kernel.io_uring_disabled; ENOMEM past RLIMIT_MEMLOCK on old kernels)
     */
    public static IoUring open(int entries) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(PARAMS_BYTES, 8);
            int fd = Libc.ioUringSetup(s, entries, params);
            if (fd < 0) throw new ErrnoException("io_uring_setup", null, s.errno());
            MemorySegment sq = null, cq = null, sqes = null;
            try {
                long sqBytes = params.get(JAVA_INT, P_SQ_OFF + SQ_O_ARRAY) + 4L * params.get(JAVA_INT, P_SQ_ENTRIES);
                long cqBytes = params.get(JAVA_INT, P_CQ_OFF + CQ_O_CQES) + CQE_BYTES * params.get(JAVA_INT, P_CQ_ENTRIES);
                boolean single = (params.get(JAVA_INT, P_FEATURES) & FEAT_SINGLE_MMAP) != 0;
                if (single) sqBytes = cqBytes = Math.max(sqBytes, cqBytes);
                sq = map(s, fd, sqBytes, OFF_SQ_RING, "the submission ring");
                cq = single ? sq : map(s, fd, cqBytes, OFF_CQ_RING, "the completion ring");
                sqes = map(s, fd, SQE_BYTES * params.get(JAVA_INT, P_SQ_ENTRIES), OFF_SQES, "the submission entries");
                return new IoUring(fd, params, sq, cq, sqes);
            } catch (ErrnoException | RuntimeException e) {
                unmap(s, sqes);
                if (cq != sq) unmap(s, cq);
                unmap(s, sq);
                Libc.close(s, fd);
                throw e;
            }
        }
    }

    private static MemorySegment map(Scratch s, int fd, long bytes, long offset, String what) throws ErrnoException {
        MemorySegment m = Libc.mmap(s, bytes, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, offset);
        if (m.address() == Libc.MAP_FAILED) throw new ErrnoException("mmap", "io_uring " + what, s.errno());
        return m.reinterpret(bytes);
    }

    private static void unmap(Scratch s, MemorySegment m) {
        if (m != null) Libc.munmap(s, m, m.byteSize());
    }

    /** Submission entries: the most that can be prepared and not yet taken by the kernel. */
    public int entries() {
        return sqEntries;
    }

    /**
     * Fills the next submission entry (not yet seen by the kernel until {@link #submit}): {@code op} on {@code fd}
     * with {@code address}, {@code length} and {@code offset} as the op reads them (iovecs and their count for
     * readv and writev), {@code opFlags} (fsync's flags), and {@code userData} for its completion. Returns false
     * when the ring is full.
     */
    public boolean prepare(byte op, int fd, MemorySegment address, int length, long offset, int opFlags, long userData) {
        int head = (int) INT.getAcquire(sqRing, sqHead);
        if (tail - head >= sqEntries) return false;
        int index = tail & sqMask;
        MemorySegment sqe = sqes.asSlice(SQE_BYTES * index, SQE_BYTES);
        sqe.fill((byte) 0);
        sqe.set(JAVA_BYTE, 0, op);
        sqe.set(JAVA_INT, 4, fd);
        sqe.set(JAVA_LONG, 8, offset);
        sqe.set(JAVA_LONG, 16, address.address());
        sqe.set(JAVA_INT, 24, length);
        sqe.set(JAVA_INT, 28, opFlags);
        sqe.set(JAVA_LONG, 32, userData);
        sqRing.set(JAVA_INT, sqArray + 4L * index, index);
        tail++;
        INT.setRelease(sqRing, sqTail, tail); // the entry before the tail that publishes it
        return true;
    }

    /**
     * Hands the prepared entries to the kernel (io_uring_enter); returns how many it took. Without SQPOLL the
     * kernel reads entries only here, so those it did not take stay in the ring until the next call, or until
     * {@link #unsubmitted} takes them back.
     */
    public int submit() throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        while (true) {
            int pending = tail - (int) INT.getAcquire(sqRing, sqHead);
            if (pending == 0) return 0;
            int n = Libc.ioUringEnter(s, fd, pending, 0, 0);
            if (n >= 0) return n;
            if (s.errno() != Errno.EINTR) throw new ErrnoException("io_uring_enter", null, s.errno());
        }
    }

    /**
     * Takes back the prepared entries the kernel has not taken (after {@link #submit} failed): calls {@code each}
     * with the user data of every one, oldest first, and withdraws them.
     */
    public void unsubmitted(LongConsumer each) {
        int head = (int) INT.getAcquire(sqRing, sqHead);
        for (int at = head; at != tail; at++) each.accept(sqes.get(JAVA_LONG, SQE_BYTES * (at & sqMask) + 32));
        tail = head;
        INT.setRelease(sqRing, sqTail, tail);
    }

    /** Reaper: blocks until at least one completion is there (or a signal interrupts the wait). */
    public void awaitCompletions() throws ErrnoException {
        if (hasCompletions()) return;
        Scratch s = Scratch.ofThisThread();
        int n = Libc.ioUringEnter(s, fd, 0, 1, ENTER_GETEVENTS);
        if (n < 0 && s.errno() != Errno.EINTR) throw new ErrnoException("io_uring_enter", null, s.errno());
    }

    private boolean hasCompletions() {
        return (int) INT.getAcquire(cqRing, cqTail) != cqRing.get(JAVA_INT, cqHead);
    }

    /** Reaper: hands every completion there is to {@code each}, then gives their entries back; returns how many. */
    public int reap(Completions each) {
        int head = cqRing.get(JAVA_INT, cqHead);
        int end = (int) INT.getAcquire(cqRing, cqTail); // the entries before the tail are written
        for (int at = head; at != end; at++) {
            long cqe = cqes + CQE_BYTES * (at & cqMask);
            long userData = cqRing.get(JAVA_LONG, cqe);
            int result = cqRing.get(JAVA_INT, cqe + 8);
            INT.setRelease(cqRing, cqHead, at + 1); // the entry is read: the kernel may reuse it
            each.completed(userData, result);
        }
        return end - head;
    }

    /** Unmaps the rings and closes the ring's descriptor; nothing may be in flight (the kernel would cancel it). */
    @Override
    public void close() {
        Scratch s = Scratch.ofThisThread();
        unmap(s, sqes);
        if (cqRing != sqRing) unmap(s, cqRing);
        unmap(s, sqRing);
        Libc.close(s, fd);
    }
}
