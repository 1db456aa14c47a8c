package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The raw file, memory and I/O calls: each returns what the C function returns and leaves errno in the
 * {@link Scratch} it is given, for the callers that decide themselves what a failure means (a vCPU's KVM_RUN,
 * a tap's non-blocking readv) or keep their own scratch. {@link Posix} has the same calls checked.
 *
 * <p>The constants are Linux's (x86-64 and aarch64 share them); a port to another system changes them here.
 * Declared with the variadic ABI where C has "...": {@code open}'s mode and {@code ioctl}'s argument go in
 * the variadic slots, which on aarch64 macOS are passed differently from fixed ones.
 */
public final class Libc {
    private Libc() {}

    public static final int O_RDONLY = 0, O_WRONLY = 0x1, O_RDWR = 0x2, O_ACCMODE = 0x3;
    public static final int O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_TRUNC = 0x200, O_APPEND = 0x400;
    public static final int O_NONBLOCK = 0x800, O_DSYNC = 0x1000, O_DIRECT = 0x4000, O_CLOEXEC = 0x80000;

    public static final int PROT_READ = 0x1, PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000;
    /** What mmap returns on failure. */
    public static final long MAP_FAILED = -1L;

    public static final int EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000;
    /** fcntl(2) commands: the file status flags (O_NONBLOCK, O_APPEND, ...) of an open file description. */
    public static final int F_GETFL = 3, F_SETFL = 4;

    public static final short POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
    /** {@code struct pollfd}: {@code int fd; short events; short revents;}. */
    public static final long POLLFD_BYTES = 8, POLLFD_FD = 0, POLLFD_EVENTS = 4, POLLFD_REVENTS = 6;
    /** {@code struct iovec}: {@code void *iov_base; size_t iov_len;}. */
    public static final long IOVEC_BYTES = 16, IOVEC_BASE = 0, IOVEC_LEN = 8;
    /** The most iovecs one readv/writev/preadv/pwritev takes. */
    public static final int IOV_MAX = 1024;

    public static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    public static final int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;
    public static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
    /** setns(2)'s namespace type for a network namespace. */
    public static final int CLONE_NEWNET = 0x40000000;

    // Each downcall in a holder class of its own: linked on its first call (Native says why).
    private static final class Open { static final MethodHandle HANDLE = Native.errnoCall("open",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2)); }
    private static final class Close { static final MethodHandle HANDLE = Native.errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Read { static final MethodHandle HANDLE = Native.errnoCall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG)); }
    private static final class Write { static final MethodHandle HANDLE = Native.errnoCall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG)); }
    private static final class Readv { static final MethodHandle HANDLE = Native.errnoCall("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Writev { static final MethodHandle HANDLE = Native.errnoCall("writev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Preadv { static final MethodHandle HANDLE = Native.errnoCall("preadv",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG)); }
    private static final class Pwritev { static final MethodHandle HANDLE = Native.errnoCall("pwritev",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG)); }
    private static final class Lseek { static final MethodHandle HANDLE = Native.errnoCall("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT)); }
    private static final class Fdatasync { static final MethodHandle HANDLE = Native.errnoCall("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Fallocate { static final MethodHandle HANDLE = Native.errnoCall("fallocate",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG)); }
    private static final class Flock { static final MethodHandle HANDLE = Native.errnoCall("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Poll { static final MethodHandle HANDLE = Native.errnoCall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT)); }
    /** {@code int ioctl(int fd, unsigned long request, ...)} with a pointer argument (and an integer one: {@link #ioctl(Scratch, int, long, long)}). */
    private static final class IoctlPtr { static final MethodHandle HANDLE = Native.errnoCall("ioctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2)); }
    /** {@code int fcntl(int fd, int cmd, ...)} with an integer argument (or none: pass 0). */
    private static final class FcntlInt { static final MethodHandle HANDLE = Native.errnoCall("fcntl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2)); }
    private static final class Mmap { static final MethodHandle HANDLE = Native.errnoCall("mmap",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG)); }
    private static final class Munmap { static final MethodHandle HANDLE = Native.errnoCall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG)); }
    private static final class Mlock { static final MethodHandle HANDLE = Native.errnoCall("mlock", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG)); }
    private static final class Eventfd { static final MethodHandle HANDLE = Native.errnoCall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT)); }
    private static final class Setns { static final MethodHandle HANDLE = Native.errnoCall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT)); }
    // io_uring has no libc wrapper: syscall(2), variadic after the number, once per argument shape.
    private static final class SyscallIoUringSetup { static final MethodHandle HANDLE = Native.errnoCall("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS), Linker.Option.firstVariadicArg(1)); }
    private static final class SyscallIoUringEnter { static final MethodHandle HANDLE = Native.errnoCall("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG), Linker.Option.firstVariadicArg(1)); }
    /** io_uring's system call numbers: the same on every Linux architecture (they came after the tables were unified). */
    private static final long SYS_IO_URING_SETUP = 425, SYS_IO_URING_ENTER = 426;

    public static int fcntl(Scratch s, int fd, int cmd, int arg) {
        try {
            return (int) FcntlInt.HANDLE.invokeExact(s.callState(), fd, cmd, arg);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code open(path, flags, mode)}; {@code path} a NUL-terminated string, {@code mode} used with O_CREAT. */
    public static int open(Scratch s, MemorySegment path, int flags, int mode) {
        try {
            return (int) Open.HANDLE.invokeExact(s.callState(), path, flags, mode);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int close(Scratch s, int fd) {
        try {
            return (int) Close.HANDLE.invokeExact(s.callState(), fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** read(2) of up to {@code count} bytes into the start of {@code buf}. */
    public static long read(Scratch s, int fd, MemorySegment buf, long count) {
        try {
            return (long) Read.HANDLE.invokeExact(s.callState(), fd, buf, count);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** write(2) of the first {@code count} bytes of {@code buf}. */
    public static long write(Scratch s, int fd, MemorySegment buf, long count) {
        try {
            return (long) Write.HANDLE.invokeExact(s.callState(), fd, buf, count);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** readv(2) over {@code count} iovecs ({@link #IOVEC_BYTES} each) at {@code iov}. */
    public static long readv(Scratch s, int fd, MemorySegment iov, int count) {
        try {
            return (long) Readv.HANDLE.invokeExact(s.callState(), fd, iov, count);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static long writev(Scratch s, int fd, MemorySegment iov, int count) {
        try {
            return (long) Writev.HANDLE.invokeExact(s.callState(), fd, iov, count);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static long preadv(Scratch s, int fd, MemorySegment iov, int count, long offset) {
        try {
            return (long) Preadv.HANDLE.invokeExact(s.callState(), fd, iov, count, offset);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static long pwritev(Scratch s, int fd, MemorySegment iov, int count, long offset) {
        try {
            return (long) Pwritev.HANDLE.invokeExact(s.callState(), fd, iov, count, offset);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static long lseek(Scratch s, int fd, long offset, int whence) {
        try {
            return (long) Lseek.HANDLE.invokeExact(s.callState(), fd, offset, whence);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int fdatasync(Scratch s, int fd) {
        try {
            return (int) Fdatasync.HANDLE.invokeExact(s.callState(), fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** fallocate(2), Linux's: {@link UnsatisfiedLinkError} where libc has none. */
    public static int fallocate(Scratch s, int fd, int mode, long offset, long length) {
        try {
            return (int) Fallocate.HANDLE.invokeExact(s.callState(), fd, mode, offset, length);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int flock(Scratch s, int fd, int operation) {
        try {
            return (int) Flock.HANDLE.invokeExact(s.callState(), fd, operation);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** poll(2) on {@code count} pollfds ({@link #POLLFD_BYTES} each) at {@code fds}. */
    public static int poll(Scratch s, MemorySegment fds, long count, int timeoutMillis) {
        try {
            return (int) Poll.HANDLE.invokeExact(s.callState(), fds, count, timeoutMillis);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** ioctl(2) with a pointer argument. */
    public static int ioctl(Scratch s, int fd, long request, MemorySegment arg) {
        try {
            return (int) IoctlPtr.HANDLE.invokeExact(s.callState(), fd, request, arg);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * ioctl(2) with an integer argument. Through the pointer form's handle: in ioctl's variadic slot an
     * integer and a pointer travel alike (a 64-bit register, or an 8-byte stack slot on aarch64 macOS), and
     * one shape fewer is one downcall link fewer at every start (Native). 0, KVM_RUN's argument on every
     * exit, is the NULL constant, so the hot path makes no segment.
     */
    public static int ioctl(Scratch s, int fd, long request, long arg) {
        try {
            MemorySegment argument = arg == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(arg);
            return (int) IoctlPtr.HANDLE.invokeExact(s.callState(), fd, request, argument);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** mmap(2) at an address of the kernel's choosing; a zero-length segment at the mapping, or at {@link #MAP_FAILED}. */
    public static MemorySegment mmap(Scratch s, long length, int prot, int flags, int fd, long offset) {
        try {
            return (MemorySegment) Mmap.HANDLE.invokeExact(s.callState(), MemorySegment.NULL, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int munmap(Scratch s, MemorySegment address, long length) {
        try {
            return (int) Munmap.HANDLE.invokeExact(s.callState(), address, length);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** mlock(2): the pages stay in RAM (bhyve's -S); ENOMEM or EPERM past RLIMIT_MEMLOCK. */
    public static int mlock(Scratch s, MemorySegment address, long length) {
        try {
            return (int) Mlock.HANDLE.invokeExact(s.callState(), address, length);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** eventfd(2), Linux's: {@link UnsatisfiedLinkError} where libc has none. */
    public static int eventfd(Scratch s, int initval, int flags) {
        try {
            return (int) Eventfd.HANDLE.invokeExact(s.callState(), initval, flags);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** setns(2), Linux's: moves the calling thread into the namespace {@code fd} refers to (the cli's network tests). */
    public static int setns(Scratch s, int fd, int nstype) {
        try {
            return (int) Setns.HANDLE.invokeExact(s.callState(), fd, nstype);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** io_uring_setup(2): a ring of {@code entries} submission entries; {@code params} is a struct io_uring_params. */
    public static int ioUringSetup(Scratch s, int entries, MemorySegment params) {
        try {
            return (int) (long) SyscallIoUringSetup.HANDLE.invokeExact(s.callState(), SYS_IO_URING_SETUP, entries, params);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** io_uring_enter(2) without a signal mask: submits {@code toSubmit} entries, then waits for {@code minComplete} with GETEVENTS. */
    public static int ioUringEnter(Scratch s, int fd, int toSubmit, int minComplete, int flags) {
        try {
            return (int) (long) SyscallIoUringEnter.HANDLE.invokeExact(s.callState(), SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags,
                    MemorySegment.NULL, 0L);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
