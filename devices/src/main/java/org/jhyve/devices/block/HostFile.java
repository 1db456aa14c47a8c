package org.jhyve.devices.block;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * A host file or block device opened through libc (FFM), for disk images: positional scatter/gather I/O
 * straight into guest memory (preadv/pwritev on the guest's own pages: no copy through the Java heap),
 * fdatasync, hole punching, O_DIRECT and O_DSYNC, and an advisory lock so two VMs cannot share an image.
 * FileChannel offers neither O_DIRECT with arbitrary buffers nor fallocate, hence libc.
 *
 * <p>Threading: any thread may call any method, concurrently; {@link #close} defers the close(2) until no
 * call is using the descriptor, and every call after it fails.
 */
final class HostFile implements AutoCloseable {
    static final int O_RDONLY = 0, O_RDWR = 2, O_CLOEXEC = 0x80000, O_DIRECT = 0x4000, O_DSYNC = 0x1000;
    static final int EINTR = 4, EOPNOTSUPP = 95, EWOULDBLOCK = 11;
    static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
    private static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, SEEK_END = 2;
    /** Linux's IOV_MAX: the most buffers one preadv/pwritev takes. */
    static final int IOV_MAX = 1024;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = call("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PREADV = call("preadv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle PWRITEV = call("pwritev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FDATASYNC = call("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FALLOCATE = call("fallocate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle LSEEK = call("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FLOCK = call("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LINKER.defaultLookup().find("strerror").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static MethodHandle call(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, Linker.Option.captureCallState("errno"));
    }

    private final String path;
    private final int fd;
    /** Calls using {@link #fd} right now; the descriptor is closed only once none is (guarded by this). */
    private int inUse;
    private boolean closed;

    private HostFile(String path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** Opens {@code path} with {@code flags} and takes a lock: shared for read-only use, exclusive otherwise. */
    static HostFile open(String path, int flags) throws IOException {
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags | O_CLOEXEC, 0);
            if (fd < 0) throw error("open", path, errno(state));
            boolean writable = (flags & 3) == O_RDWR;
            int r = (int) FLOCK.invokeExact(state, fd, (writable ? LOCK_EX : LOCK_SH) | LOCK_NB);
            if (r < 0) {
                int err = errno(state);
                int ignored = (int) CLOSE.invokeExact(state, fd);
                if (err == EWOULDBLOCK) throw new IOException(path + ": in use by another process (it holds a lock on it)");
                throw error("flock", path, err);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return new HostFile(path, fd);
    }

    String path() { return path; }

    /** Size in bytes (lseek to the end: works for regular files and block devices alike). */
    long size() throws IOException {
        enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long n = (long) LSEEK.invokeExact(state, fd, 0L, SEEK_END);
            if (n < 0) throw error("lseek", path, errno(state));
            return n;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
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
        enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            IoVectors iov = new IoVectors(arena, buffers);
            long pos = offset;
            while (!iov.done()) {
                int n = iov.batch(IOV_MAX);
                long done = read ? (long) PREADV.invokeExact(state, fd, iov.next(), n, pos) : (long) PWRITEV.invokeExact(state, fd, iov.next(), n, pos);
                if (done < 0) {
                    int err = errno(state);
                    if (err == EINTR) continue;
                    throw error(read ? "preadv" : "pwritev", path, err);
                }
                if (done == 0) {
                    throw new IOException(path + ": " + (read ? "preadv: end of file" : "pwritev: nothing written") + " at byte " + pos
                            + " with " + iov.remaining() + " bytes of the request left");
                }
                iov.advance(done);
                pos += done;
            }
        } catch (IOException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            exit();
        }
    }

    /** fdatasync: what the guest wrote is on stable storage when this returns. */
    void sync() throws IOException {
        enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r;
            do {
                r = (int) FDATASYNC.invokeExact(state, fd);
            } while (r < 0 && errno(state) == EINTR);
            if (r < 0) throw error("fdatasync", path, errno(state));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            exit();
        }
    }

    /** fallocate; returns false when the file system does not support {@code mode} (EOPNOTSUPP). */
    boolean fallocate(int mode, long offset, long length) throws IOException {
        enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r;
            do {
                r = (int) FALLOCATE.invokeExact(state, fd, mode, offset, length);
            } while (r < 0 && errno(state) == EINTR);
            if (r < 0 && errno(state) == EOPNOTSUPP) return false;
            if (r < 0) throw error("fallocate", path, errno(state));
            return true;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
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

    private synchronized void enter() throws IOException {
        if (closed) throw new IOException(path + ": closed");
        inUse++;
    }

    private synchronized void exit() {
        if (--inUse == 0 && closed) closeDescriptor();
    }

    private void closeDescriptor() {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CALL_STATE), fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static IOException error(String call, String path, int errno) {
        String reason;
        try {
            reason = ((MemorySegment) STRERROR.invokeExact(errno)).reinterpret(256).getString(0);
        } catch (Throwable t) {
            reason = "errno " + errno;
        }
        return new HostIoException(path + ": " + call + ": " + reason + " (errno " + errno + ")", errno);
    }
}
