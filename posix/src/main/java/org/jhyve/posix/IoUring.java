package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * One io_uring instance (Linux 5.1+): a submission ring the caller fills with requests and a completion ring the
 * kernel fills with their results, both shared memory, so that many requests go to the kernel in one
 * {@code io_uring_enter} and their results come back without any system call at all. Through {@code syscall(2)}
 * (glibc has no wrapper, and liburing is a C library of inline functions over the same three system calls).
 *
 * <p>Only what a disk needs: vectored reads and writes at an offset, fdatasync, and a one-shot poll (which lets
 * the same wait cover an eventfd, a queue's doorbell). The ring indices follow the kernel's rules: the
 * submission tail is published with a release store after the entries it covers, the completion tail is read
 * with an acquire load before the entries, and the completion head is released after they have been read.
 *
 * <p>Threading: one thread at a time uses an instance (the submitting thread is also the one reaping), as
 * io_uring's SINGLE_ISSUER mode, asked for where the kernel has it, requires. {@link #close} is that thread's
 * too, after the last completion it waits for.
 */
public final class IoUring implements AutoCloseable {
    public static final byte OP_NOP = 0, OP_READV = 1, OP_WRITEV = 2, OP_FSYNC = 3, OP_POLL_ADD = 6;
    public static final int FSYNC_DATASYNC = 1;

    private static final long SYS_IO_URING_SETUP = 425, SYS_IO_URING_ENTER = 426;
    private static final int SETUP_COOP_TASKRUN = 1 << 8, SETUP_SINGLE_ISSUER = 1 << 12;
    private static final int ENTER_GETEVENTS = 1;
    private static final int FEAT_SINGLE_MMAP = 1;
    private static final long OFF_SQ_RING = 0, OFF_CQ_RING = 0x8000000L, OFF_SQES = 0x10000000L;
    private static final long PARAMS_BYTES = 120, SQ_OFF = 40, CQ_OFF = 80;
    private static final long SQE_BYTES = 64, CQE_BYTES = 16;

    /** {@code long syscall(long number, ...)}: every argument passed as a long, as the kernel reads them. */
    private static final MethodHandle SETUP = Native.errnoCall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle ENTER = Native.errnoCall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final int fd;
    private final Scratch scratch = Scratch.allocate();
    private final MemorySegment sqRing, cqRing, sqes;
    private final long sqRingBytes, cqRingBytes, sqesBytes;
    private final boolean sharedRingMapping;
    private final long sqHead, sqTail, sqArray, cqHead, cqTail, cqes;
    private final int sqMask, cqMask, sqEntries;
    /** The submission tail as this side knows it (entries prepared, not yet all seen by the kernel). */
    private int sqLocalTail;
    private int submittedTail;

    private IoUring(int fd, MemorySegment params, MemorySegment sqRing, long sqRingBytes, MemorySegment cqRing, long cqRingBytes,
                    boolean shared, MemorySegment sqes, long sqesBytes) {
        this.fd = fd;
        this.sqRing = sqRing;
        this.cqRing = cqRing;
        this.sqes = sqes;
        this.sqRingBytes = sqRingBytes;
        this.cqRingBytes = cqRingBytes;
        this.sqesBytes = sqesBytes;
        this.sharedRingMapping = shared;
        this.sqHead = params.get(JAVA_INT, SQ_OFF);
        this.sqTail = params.get(JAVA_INT, SQ_OFF + 4);
        this.sqMask = sqRing.get(JAVA_INT, params.get(JAVA_INT, SQ_OFF + 8));
        this.sqEntries = sqRing.get(JAVA_INT, params.get(JAVA_INT, SQ_OFF + 12));
        this.sqArray = params.get(JAVA_INT, SQ_OFF + 24);
        this.cqHead = params.get(JAVA_INT, CQ_OFF);
        this.cqTail = params.get(JAVA_INT, CQ_OFF + 4);
        this.cqMask = cqRing.get(JAVA_INT, params.get(JAVA_INT, CQ_OFF + 8));
        this.cqes = params.get(JAVA_INT, CQ_OFF + 20);
        this.sqLocalTail = this.submittedTail = (int) INT.getAcquire(sqRing, sqTail);
        // The array maps ring slots to entries; slot i always uses entry i, so it is filled once here.
        for (int i = 0; i < sqEntries; i++) sqRing.set(JAVA_INT, sqArray + 4L * i, i);
    }

    /**
     * A ring of at least {@code entries} submission slots (a power of two up to 4096; the kernel rounds up).
     *
     * @throws ErrnoException when the kernel has no io_uring or refuses one (ENOSYS; EPERM where
     *         kernel.io_uring_disabled says so; ENOMEM under a low RLIMIT_MEMLOCK on old kernels)
     */
    public static IoUring create(int entries) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(PARAMS_BYTES, 8);
            params.set(JAVA_INT, 8, SETUP_SINGLE_ISSUER | SETUP_COOP_TASKRUN);
            Scratch s = Scratch.ofThisThread();
            long fd = setup(s, entries, params);
            if (fd < 0 && s.errno() == Errno.EINVAL) {
                // Kernels before 6.0 know neither flag: the ring works without them.
                params.fill((byte) 0);
                fd = setup(s, entries, params);
            }
            if (fd < 0) throw new ErrnoException("io_uring_setup", entries + " entries", s.errno());
            return map((int) fd, params);
        }
    }

    private static long setup(Scratch s, int entries, MemorySegment params) {
        try {
            return (long) SETUP.invokeExact(s.callState(), SYS_IO_URING_SETUP, (long) entries, params);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static IoUring map(int fd, MemorySegment params) throws ErrnoException {
        int sqEntries = params.get(JAVA_INT, 0), cqEntries = params.get(JAVA_INT, 4);
        boolean shared = (params.get(JAVA_INT, 20) & FEAT_SINGLE_MMAP) != 0;
        long sqBytes = params.get(JAVA_INT, SQ_OFF + 24) + 4L * sqEntries;
        long cqBytes = params.get(JAVA_INT, CQ_OFF + 20) + CQE_BYTES * cqEntries;
        if (shared) sqBytes = cqBytes = Math.max(sqBytes, cqBytes);
        MemorySegment sq = MemorySegment.NULL, cq = MemorySegment.NULL;
        try {
            sq = ringMapping(fd, sqBytes, OFF_SQ_RING);
            cq = shared ? sq : ringMapping(fd, cqBytes, OFF_CQ_RING);
            MemorySegment sqes = ringMapping(fd, SQE_BYTES * sqEntries, OFF_SQES);
            return new IoUring(fd, params, sq, sqBytes, cq, cqBytes, shared, sqes, SQE_BYTES * sqEntries);
        } catch (ErrnoException | RuntimeException e) {
            if (sq.byteSize() > 0) unmap(sq, sqBytes);
            if (!shared && cq.byteSize() > 0) unmap(cq, cqBytes);
            Libc.close(Scratch.ofThisThread(), fd);
            throw e;
        }
    }

    private static MemorySegment ringMapping(int fd, long bytes, long offset) throws ErrnoException {
        return Posix.mmap(bytes, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | MAP_POPULATE, fd, offset).reinterpret(bytes);
    }

    private static final int MAP_POPULATE = 0x8000;

    /** Submission slots: at most this many requests may be prepared before {@link #submit}. */
    public int capacity() { return sqEntries; }

    /** Slots free for {@link #prepare} before the next {@link #submit}. */
    public int freeSlots() {
        return sqEntries - (sqLocalTail - (int) INT.getAcquire(sqRing, sqHead));
    }

    /**
     * Fills the next submission entry: {@code op} on {@code fileFd} at {@code offset} with {@code addr}/{@code len}
     * (an iovec array and its count for READV/WRITEV; poll events in {@code opFlags} for POLL_ADD; FSYNC_DATASYNC for
     * FSYNC); {@code userData} comes back with its completion.
     *
     * @throws IllegalStateException when every slot is taken (check {@link #freeSlots})
     */
    public void prepare(byte op, int fileFd, long offset, long addr, int len, int opFlags, long userData) {
        if (freeSlots() <= 0) throw new IllegalStateException("io_uring submission ring full (" + sqEntries + " entries)");
        long at = SQE_BYTES * (sqLocalTail & sqMask);
        // struct io_uring_sqe as eight little-endian words: opcode, flags 0, ioprio 0, fd | off | addr |
        // len, op flags | user_data | buf_index, personality, splice_fd_in 0 | two words of zeroes.
        sqes.set(JAVA_LONG, at, (op & 0xffL) | (long) fileFd << 32);
        sqes.set(JAVA_LONG, at + 8, offset);
        sqes.set(JAVA_LONG, at + 16, addr);
        sqes.set(JAVA_LONG, at + 24, (len & 0xffffffffL) | (long) opFlags << 32);
        sqes.set(JAVA_LONG, at + 32, userData);
        sqes.set(JAVA_LONG, at + 40, 0L);
        sqes.set(JAVA_LONG, at + 48, 0L);
        sqes.set(JAVA_LONG, at + 56, 0L);
        sqLocalTail++;
    }

    /** Entries prepared and not yet handed to the kernel. */
    public int pending() { return sqLocalTail - submittedTail; }

    /**
     * Hands the prepared entries to the kernel and, when {@code waitFor} > 0, waits until at least that many
     * completions are in the completion ring (counting those already there). Returns how many entries the kernel
     * took. EINTR returns what was done so far (the caller looks at the completions and calls again).
     */
    public int submit(int waitFor) throws ErrnoException {
        int toSubmit = sqLocalTail - submittedTail;
        INT.setRelease(sqRing, sqTail, sqLocalTail);
        if (toSubmit == 0 && (waitFor == 0 || ready() >= waitFor)) return 0;
        long r;
        try {
            r = (long) ENTER.invokeExact(scratch.callState(), SYS_IO_URING_ENTER, (long) fd, (long) toSubmit, (long) waitFor,
                    (long) (waitFor > 0 ? ENTER_GETEVENTS : 0), MemorySegment.NULL, 0L);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (r < 0) {
            int err = scratch.errno();
            if (err == Errno.EINTR) return 0;
            throw new ErrnoException("io_uring_enter", "ring " + fd, err);
        }
        submittedTail += (int) r;
        return (int) r;
    }

    /** Completions waiting in the ring. */
    public int ready() {
        return (int) INT.getAcquire(cqRing, cqTail) - (int) INT.getAcquire(cqRing, cqHead);
    }

    /** Receives one completion: its request's user data and result (bytes moved, or -errno). */
    @FunctionalInterface
    public interface CompletionSink {
        void completed(long userData, int result);
    }

    /** Passes every completion in the ring to {@code sink}, oldest first, and frees their slots; returns how many. */
    public int reap(CompletionSink sink) {
        int head = (int) INT.getAcquire(cqRing, cqHead);
        int tail = (int) INT.getAcquire(cqRing, cqTail);
        int n = 0;
        for (; head != tail; head++, n++) {
            long at = cqes + CQE_BYTES * (head & cqMask);
            long userData = cqRing.get(JAVA_LONG, at);
            int result = cqRing.get(JAVA_INT, at + 8);
            // The slot is released before the sink runs: a sink that prepares and submits again finds room.
            INT.setRelease(cqRing, cqHead, head + 1);
            sink.completed(userData, result);
        }
        return n;
    }

    /** Unmaps the rings and closes the ring's descriptor (requests still in flight are cancelled by the kernel). */
    @Override
    public void close() {
        unmap(sqes, sqesBytes);
        unmap(sqRing, sqRingBytes);
        if (!sharedRingMapping) unmap(cqRing, cqRingBytes);
        Libc.close(scratch, fd);
    }

    private static void unmap(MemorySegment mapping, long bytes) {
        Libc.munmap(Scratch.ofThisThread(), mapping, bytes); // nothing to do about a failure: the ring is gone either way
    }
}
