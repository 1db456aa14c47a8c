package org.jhyve.devices.block;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jhyve.posix.Errno;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Scratch;

/**
 * A host file or block device opened through libc (jhyve's POSIX layer), for disk images: positional
 * scatter/gather I/O straight into guest memory (preadv/pwritev on the guest's own pages: no copy through the
 * Java heap), fdatasync, hole punching, O_DIRECT and O_DSYNC, and an advisory lock so two VMs cannot share an
 * image. FileChannel offers neither O_DIRECT with arbitrary buffers nor fallocate, hence libc. Failures are
 * {@link HostIoException}s naming the image, the call and errno.
 *
 * <p>Threading: any thread may call any method, concurrently (each call uses its thread's {@link Scratch});
 * {@link #close} defers the close(2) until no call is using the descriptor, and every call after it fails.
 */
final class HostFile implements AutoCloseable {
    static final int O_RDONLY = Libc.O_RDONLY, O_RDWR = Libc.O_RDWR, O_CLOEXEC = Libc.O_CLOEXEC;
    static final int O_DIRECT = Libc.O_DIRECT, O_DSYNC = Libc.O_DSYNC;
    /** Linux's O_SYNC is __O_SYNC (04000000) with O_DSYNC: file integrity, not only data integrity. */
    static final int O_SYNC = 0x100000 | Libc.O_DSYNC;
    static final int FALLOC_FL_KEEP_SIZE = Libc.FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = Libc.FALLOC_FL_PUNCH_HOLE;
    static final int FALLOC_FL_ZERO_RANGE = Libc.FALLOC_FL_ZERO_RANGE;
    /** Linux's IOV_MAX: the most buffers one preadv/pwritev takes. */
    static final int IOV_MAX = Libc.IOV_MAX;

    /** Buffers whose iovecs a thread's reused space holds; a request with more lays its iovecs out in an arena. */
    private static final int REUSED_IOVECS = 64;

    private final String path;
    private final int fd;
    /**
     * Each thread's iovec space, reused request after request so that a read or write allocates no native memory
     * (an arena per call costs a malloc and a free). Freed with the thread (or this file).
     */
    private final ThreadLocal<MemorySegment> iovecSpace =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(IoVectors.bytesFor(REUSED_IOVECS), 8));
    /** Calls using {@link #fd} right now; the descriptor is closed only once none is (guarded by this). */
    private int inUse;
    private boolean closed;

    private HostFile(String path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** Opens {@code path} with {@code flags} and takes a lock: shared for read-only use, exclusive otherwise. */
    static HostFile open(String path, int flags) throws IOException {
        Scratch s = Scratch.ofThisThread();
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = Libc.open(s, arena.allocateFrom(path), flags | O_CLOEXEC, 0);
        }
        if (fd < 0) throw new HostIoException(path, "open", s.errno());
        boolean writable = (flags & Libc.O_ACCMODE) == O_RDWR;
        if (Libc.flock(s, fd, (writable ? Libc.LOCK_EX : Libc.LOCK_SH) | Libc.LOCK_NB) < 0) {
            int err = s.errno();
            Libc.close(s, fd);
            if (err == Errno.EWOULDBLOCK) throw new IOException(path + ": in use by another process (it holds a lock on it)");
            throw new HostIoException(path, "flock", err);
        }
        return new HostFile(path, fd);
    }

    String path() { return path; }

    /** Size in bytes (lseek to the end: works for regular files and block devices alike). */
    long size() throws IOException {
        enter();
        try {
            Scratch s = Scratch.ofThisThread();
            long n = Libc.lseek(s, fd, 0L, Libc.SEEK_END);
            if (n < 0) throw new HostIoException(path, "lseek", s.errno());
            return n;
        } finally {
            exit();
        }
    }

    /** Reads exactly the segments' total length at {@code offset} into them (native segments). */
    void readFully(long offset, List<MemorySegment> buffers) throws IOException {
        transfer(true, offset, buffers);
    }

    /** Writes all of the segments at {@code offset}. */
    void writeFully(long offset, List<MemorySegment> buffers) throws IOException {
        transfer(false, offset, buffers);
    }

    /**
     * preadv/pwritev until every byte has moved: a short transfer (a signal, a nearly full file system) is
     * continued where it stopped, until it completes or the kernel reports why it cannot (ENOSPC, EIO, ...).
     * A call that moves nothing is the end of the file for a read, and an error either way: the request
     * never completes silently short.
     */
    private void transfer(boolean read, long offset, List<MemorySegment> buffers) throws IOException {
        if (buffers.size() > REUSED_IOVECS) {
            try (Arena arena = Arena.ofConfined()) {
                transfer(read, offset, new IoVectors(arena, buffers));
            }
        } else {
            transfer(read, offset, new IoVectors(iovecSpace.get(), buffers));
        }
    }

    private void transfer(boolean read, long offset, IoVectors iov) throws IOException {
        enter();
        try {
            Scratch s = Scratch.ofThisThread();
            long pos = offset;
            while (!iov.done()) {
                int n = iov.batch(IOV_MAX);
                long done = read ? Libc.preadv(s, fd, iov.next(), n, pos) : Libc.pwritev(s, fd, iov.next(), n, pos);
                if (done < 0) {
                    int err = s.errno();
                    if (err == Errno.EINTR) continue;
                    throw new HostIoException(path, read ? "preadv" : "pwritev", err);
                }
                if (done == 0) {
                    throw new IOException(path + ": " + (read ? "preadv: end of file" : "pwritev: nothing written") + " at byte " + pos
                            + " with " + iov.remaining() + " bytes of the request left");
                }
                iov.advance(done);
                pos += done;
            }
        } finally {
            exit();
        }
    }

    /** fdatasync: what the guest wrote is on stable storage when this returns. */
    void sync() throws IOException {
        enter();
        try {
            Scratch s = Scratch.ofThisThread();
            int r;
            do {
                r = Libc.fdatasync(s, fd);
            } while (r < 0 && s.errno() == Errno.EINTR);
            if (r < 0) throw new HostIoException(path, "fdatasync", s.errno());
        } finally {
            exit();
        }
    }

    /** fallocate; returns false when the file system does not support {@code mode} (EOPNOTSUPP). */
    boolean fallocate(int mode, long offset, long length) throws IOException {
        enter();
        try {
            Scratch s = Scratch.ofThisThread();
            int r;
            do {
                r = Libc.fallocate(s, fd, mode, offset, length);
            } while (r < 0 && s.errno() == Errno.EINTR);
            if (r < 0 && s.errno() == Errno.EOPNOTSUPP) return false;
            if (r < 0) throw new HostIoException(path, "fallocate", s.errno());
            return true;
        } finally {
            exit();
        }
    }

    /**
     * Closes the descriptor, at once or, if a call is still using it (a worker stuck in a slow read while the
     * VM shuts down), when that call returns: the number must not be reused by another open while a call
     * could still read or write through it. Every call after this one fails.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (inUse == 0) closeDescriptor();
    }

    /**
     * The descriptor, for a caller that hands it to the kernel itself (io_uring): only between its own {@link #enter}
     * and {@link #exit}, which keep it from being closed, and reused, while the kernel may still use it.
     */
    int descriptor() {
        return fd;
    }

    /** A call starts using the descriptor; throws once closed. Any thread; {@link #exit} may come from another. */
    synchronized void enter() throws IOException {
        if (closed) throw new IOException(path + ": closed");
        inUse++;
    }

    synchronized void exit() {
        if (--inUse == 0 && closed) closeDescriptor();
    }

    private void closeDescriptor() {
        Libc.close(Scratch.ofThisThread(), fd); // nothing to do about a failure: the descriptor is gone either way
    }
}
