package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The {@link Libc} calls checked: a failure throws {@link ErrnoException}, a call interrupted by a signal
 * (EINTR) is repeated, and one that would block a non-blocking descriptor (EAGAIN) returns
 * {@link #WOULD_BLOCK}. Each uses the calling thread's {@link Scratch}, so none allocates but {@link #open}
 * (for the path). Any thread may call any of them.
 */
public final class Posix {
    private Posix() {}

    /** What {@link #read} and {@link #write} return when a non-blocking descriptor has no data or no room. */
    public static final long WOULD_BLOCK = -1;

    /** {@code open(path, flags)}; O_CREAT needs {@link #open(String, int, int)}. */
    public static int open(String path, int flags) throws ErrnoException {
        return open(path, flags, 0);
    }

    /** {@code open(path, flags, mode)}: {@code mode} (less the umask) for a file O_CREAT creates. */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(path);
            while (true) {
                int fd = Libc.open(s, cPath, flags, mode);
                if (fd >= 0) return fd;
                if (s.errno() != Errno.EINTR) throw new ErrnoException("open", path, s.errno());
            }
        }
    }

    /**
     * Closes {@code fd}. EINTR counts as closed and is not retried: Linux releases the descriptor before
     * reporting it, so a retry could close a descriptor another thread has just been given.
     */
    public static void close(int fd) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        if (Libc.close(s, fd) < 0 && s.errno() != Errno.EINTR) throw new ErrnoException("close", null, s.errno());
    }

    /** Closes {@code fd} where nothing can be done about a failure (cleaning up after another one); returns errno, 0 if closed. */
    public static int closeQuietly(int fd) {
        Scratch s = Scratch.ofThisThread();
        return Libc.close(s, fd) < 0 && s.errno() != Errno.EINTR ? s.errno() : 0;
    }

    /** Reads up to {@code buf}'s size; 0 at end of file, {@link #WOULD_BLOCK} when a non-blocking fd has nothing. */
    public static long read(int fd, MemorySegment buf) throws ErrnoException {
        return read(fd, buf, buf.byteSize());
    }

    /** Reads up to {@code count} bytes into the start of {@code buf}; results as {@link #read(int, MemorySegment)}. */
    public static long read(int fd, MemorySegment buf, long count) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        while (true) {
            long n = Libc.read(s, fd, buf, count);
            if (n >= 0) return n;
            int err = s.errno();
            if (err == Errno.EAGAIN) return WOULD_BLOCK;
            if (err != Errno.EINTR) throw new ErrnoException("read", null, err);
        }
    }

    /** Writes what it can of {@code buf}; the count written, {@link #WOULD_BLOCK} when a non-blocking fd has no room. */
    public static long write(int fd, MemorySegment buf) throws ErrnoException {
        return write(fd, buf, buf.byteSize());
    }

    /** Writes what it can of the first {@code count} bytes of {@code buf}; results as {@link #write(int, MemorySegment)}. */
    public static long write(int fd, MemorySegment buf, long count) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        while (true) {
            long n = Libc.write(s, fd, buf, count);
            if (n >= 0) return n;
            int err = s.errno();
            if (err == Errno.EAGAIN) return WOULD_BLOCK;
            if (err != Errno.EINTR) throw new ErrnoException("write", null, err);
        }
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: no limit) for {@code events} on {@code fd}; returns the revents
     * (which may be POLLERR, POLLHUP or POLLNVAL besides what was asked), 0 on timeout. EINTR counts as a
     * timeout, so callers that wait for good simply loop.
     */
    public static int poll(int fd, short events, int timeoutMillis) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        MemorySegment pollfd = s.structs();
        pollfd.set(JAVA_INT, Libc.POLLFD_FD, fd);
        pollfd.set(JAVA_SHORT, Libc.POLLFD_EVENTS, events);
        pollfd.set(JAVA_SHORT, Libc.POLLFD_REVENTS, (short) 0);
        int r = Libc.poll(s, pollfd, 1, timeoutMillis);
        if (r < 0 && s.errno() == Errno.EINTR) return 0;
        if (r < 0) throw new ErrnoException("poll", null, s.errno());
        return r == 0 ? 0 : pollfd.get(JAVA_SHORT, Libc.POLLFD_REVENTS);
    }

    /**
     * Sets O_NONBLOCK on {@code fd}'s open file description (the other end of a socket pair is a description of its
     * own and keeps its mode): for descriptors handed to an event loop, which must never block in read or write.
     */
    public static void setNonBlocking(int fd) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        int flags = Libc.fcntl(s, fd, Libc.F_GETFL, 0);
        if (flags < 0) throw new ErrnoException("fcntl(F_GETFL)", null, s.errno());
        if ((flags & Libc.O_NONBLOCK) != 0) return;
        if (Libc.fcntl(s, fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK) < 0) throw new ErrnoException("fcntl(F_SETFL)", null, s.errno());
    }

    /** Whether O_NONBLOCK is set on {@code fd}'s open file description. */
    public static boolean isNonBlocking(int fd) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        int flags = Libc.fcntl(s, fd, Libc.F_GETFL, 0);
        if (flags < 0) throw new ErrnoException("fcntl(F_GETFL)", null, s.errno());
        return (flags & Libc.O_NONBLOCK) != 0;
    }

    /** ioctl with a pointer argument; retried on EINTR. Returns the (non-negative) result. */
    public static int ioctl(int fd, long request, MemorySegment arg) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        while (true) {
            int r = Libc.ioctl(s, fd, request, arg);
            if (r >= 0) return r;
            if (s.errno() != Errno.EINTR) throw new ErrnoException("ioctl", null, s.errno());
        }
    }

    /** ioctl with an integer argument (or none: pass 0); retried on EINTR. */
    public static int ioctl(int fd, long request, long arg) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        while (true) {
            int r = Libc.ioctl(s, fd, request, arg);
            if (r >= 0) return r;
            if (s.errno() != Errno.EINTR) throw new ErrnoException("ioctl", null, s.errno());
        }
    }

    /** mmap at an address of the kernel's choosing: a zero-length segment at the mapping (size it with {@code reinterpret}). */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        MemorySegment address = Libc.mmap(s, length, prot, flags, fd, offset);
        if (address.address() == Libc.MAP_FAILED) throw new ErrnoException("mmap", length + " bytes", s.errno());
        return address;
    }

    public static void munmap(MemorySegment address, long length) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        if (Libc.munmap(s, address, length) < 0) throw new ErrnoException("munmap", length + " bytes", s.errno());
    }

    public static void mlock(MemorySegment address, long length) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        if (Libc.mlock(s, address, length) < 0) throw new ErrnoException("mlock", length + " bytes", s.errno());
    }
}
