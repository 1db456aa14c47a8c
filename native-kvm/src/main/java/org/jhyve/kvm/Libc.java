package org.jhyve.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * Downcalls to the few libc functions jhyve needs, x86-64 Linux/glibc. Handles are {@code static final}
 * so the JIT can inline the call. Calls that report errors through errno are linked with
 * {@code captureCallState("errno")}: the handle takes a leading call-state segment, and errno is read from
 * it right after the call (reading errno with a second downcall would race with the JVM's own libc use).
 *
 * <p>The {@code raw*} methods return the C result and leave errno in the state segment, for hot paths that
 * keep a state segment of their own ({@code KVM_RUN}); the others throw {@link org.jhyve.hv.HypervisorException}
 * naming the call and errno.
 */
final class Libc {
    private Libc() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();

    /** Layout of the call-state segment that captured errno lands in. */
    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    // --- constants from the glibc/kernel headers (x86-64) ------------------------------------------
    static final int O_RDWR = 0x2;
    static final int O_CLOEXEC = 0x80000;
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    static final int EFD_NONBLOCK = 0x800;
    static final int EFD_CLOEXEC = 0x80000;

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int E2BIG = 7;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EINVAL = 22;

    static final int SIGUSR1 = 10;
    static final int SIG_UNBLOCK = 1;
    static final long SYS_GETTID = 186;
    static final long SYS_TGKILL = 234;

    /** glibc's {@code struct sigaction} on x86-64 (not the kernel's): handler, 1024-bit mask, flags, restorer. */
    static final StructLayout SIGACTION = MemoryLayout.structLayout(
            ADDRESS.withName("sa_handler"),
            MemoryLayout.sequenceLayout(16, JAVA_LONG).withName("sa_mask"),
            JAVA_INT.withName("sa_flags"), MemoryLayout.paddingLayout(4),
            ADDRESS.withName("sa_restorer")).withName("sigaction");
    static final long SA_HANDLER = SIGACTION.byteOffset(groupElement("sa_handler"));
    static final long SA_MASK = SIGACTION.byteOffset(groupElement("sa_mask"));
    static final long SA_FLAGS = SIGACTION.byteOffset(groupElement("sa_flags"));
    /** glibc's {@code sigset_t}: 1024 bits. */
    static final MemoryLayout SIGSET = MemoryLayout.sequenceLayout(16, JAVA_LONG);

    // --- handles -----------------------------------------------------------------------------------
    /** {@code int open(const char *path, int flags, ...)}: variadic, the mode goes through the varargs ABI. */
    private static final MethodHandle OPEN = errnoCall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** {@code int ioctl(int fd, unsigned long request, ...)} with a pointer argument. */
    private static final MethodHandle IOCTL_PTR = errnoCall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    /** The same, with an integer argument ({@code KVM_CHECK_EXTENSION}, {@code KVM_CREATE_VCPU}...). */
    private static final MethodHandle IOCTL_LONG = errnoCall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = errnoCall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = errnoCall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle EVENTFD = errnoCall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = errnoCall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = errnoCall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle POLL = errnoCall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle GETPID = call("getpid", FunctionDescriptor.of(JAVA_INT));
    /** {@code long syscall(long number, ...)} with no further arguments: gettid. */
    private static final MethodHandle SYSCALL0 = call("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    /** {@code long syscall(long number, ...)} with three: tgkill. */
    private static final MethodHandle SYSCALL3 = errnoCall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SIGACTION_CALL = errnoCall("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    /** Returns an error number instead of setting errno. */
    private static final MethodHandle PTHREAD_SIGMASK = call("pthread_sigmask",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    @SuppressWarnings("restricted") // native access is this module's purpose; tests run with --enable-native-access
    private static MethodHandle call(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(symbol(name), fd, options);
    }

    @SuppressWarnings("restricted")
    private static MethodHandle errnoCall(String name, FunctionDescriptor fd, Linker.Option... options) {
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = CAPTURE_ERRNO;
        System.arraycopy(options, 0, all, 1, options.length);
        return LINKER.downcallHandle(symbol(name), fd, all);
    }

    static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    static Optional<MemorySegment> optionalSymbol(String name) {
        return LIBC.find(name);
    }

    /** A call-state segment for the {@code raw*} methods; owned by the caller's arena. */
    static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    /** Turns what a downcall threw into an unchecked exception; downcalls declare Throwable but do not throw checked ones. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // --- raw calls (errno left in callState) -------------------------------------------------------
    static int rawIoctl(MemorySegment callState, int fd, long request, MemorySegment arg) {
        try {
            return (int) IOCTL_PTR.invokeExact(callState, fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int rawIoctl(MemorySegment callState, int fd, long request, long arg) {
        try {
            return (int) IOCTL_LONG.invokeExact(callState, fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long rawRead(MemorySegment callState, int fd, MemorySegment buf) {
        try {
            return (long) READ.invokeExact(callState, fd, buf, buf.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long rawWrite(MemorySegment callState, int fd, MemorySegment buf) {
        try {
            return (long) WRITE.invokeExact(callState, fd, buf, buf.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // --- checked calls -----------------------------------------------------------------------------
    /** ioctl with a struct argument; retried on EINTR (every KVM ioctl but KVM_RUN may simply be repeated). */
    static int ioctl(int fd, Ioctl request, MemorySegment arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            while (true) {
                int r = rawIoctl(state, fd, request.number(), arg);
                if (r >= 0) return r;
                int err = errno(state);
                if (err != EINTR) throw NativeErrors.ioctlFailed(request, err);
            }
        }
    }

    /** ioctl with an integer argument (or none: pass 0); retried on EINTR. */
    static int ioctl(int fd, Ioctl request, long arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            while (true) {
                int r = rawIoctl(state, fd, request.number(), arg);
                if (r >= 0) return r;
                int err = errno(state);
                if (err != EINTR) throw NativeErrors.ioctlFailed(request, err);
            }
        }
    }

    static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags, 0);
            if (fd < 0) throw NativeErrors.callFailed("open(" + path + ")", errno(state));
            return fd;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Closes a file descriptor. Not retried on EINTR: Linux releases the descriptor before reporting it,
     * so a retry could close a descriptor another thread has just been given.
     */
    static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) CLOSE.invokeExact(state, fd);
            if (r < 0 && errno(state) != EINTR) throw NativeErrors.callFailed("close(" + fd + ")", errno(state));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mmap; the result is a zero-length segment at the mapping's address (reinterpret it with an arena). */
    static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            MemorySegment addr = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, length, prot, flags, fd, offset);
            if (addr.address() == -1L) throw NativeErrors.callFailed("mmap(" + length + " bytes)", errno(state));
            return addr;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void munmap(MemorySegment addr, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) MUNMAP.invokeExact(state, addr, length);
            if (r < 0) throw NativeErrors.callFailed("munmap(" + length + " bytes)", errno(state));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static final short POLLIN = 0x1;

    /**
     * poll(2) on one descriptor for {@code events}; returns the revents (0 on timeout). EINTR counts as a
     * timeout, so callers simply loop.
     */
    static int pollOne(int fd, short events, int timeoutMillis) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            MemorySegment pollfd = arena.allocate(8, 4); // struct pollfd { int fd; short events; short revents; }
            pollfd.set(JAVA_INT, 0, fd);
            pollfd.set(JAVA_SHORT, 4, events);
            int r = (int) POLL.invokeExact(state, pollfd, 1L, timeoutMillis);
            if (r < 0) {
                if (errno(state) == EINTR) return 0;
                throw NativeErrors.callFailed("poll(" + fd + ")", errno(state));
            }
            return r == 0 ? 0 : pollfd.get(JAVA_SHORT, 6);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int eventfd(int initval, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int fd = (int) EVENTFD.invokeExact(state, initval, flags);
            if (fd < 0) throw NativeErrors.callFailed("eventfd", errno(state));
            return fd;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The calling thread's kernel thread id; glibc before 2.30 has no gettid(), so go through syscall(2). */
    static int gettid() {
        try {
            return (int) (long) SYSCALL0.invokeExact(SYS_GETTID);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sends {@code signal} to thread {@code tid} of process {@code pid}; returns errno, 0 on success. */
    static int tgkill(int pid, int tid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            long r = (long) SYSCALL3.invokeExact(state, SYS_TGKILL, (long) pid, (long) tid, (long) signal);
            return r < 0 ? errno(state) : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code sigaction(signal, act, oldact)}; either pointer may be NULL. */
    static void sigaction(int signal, MemorySegment act, MemorySegment oldact) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) SIGACTION_CALL.invokeExact(state, signal, act, oldact);
            if (r < 0) throw NativeErrors.callFailed("sigaction(" + signal + ")", errno(state));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Unblocks {@code signal} in the calling thread. */
    static void unblockSignal(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(SIGSET);
            set.set(JAVA_LONG, 0, 1L << (signal - 1));
            int err = (int) PTHREAD_SIGMASK.invokeExact(SIG_UNBLOCK, set, MemorySegment.NULL);
            if (err != 0) throw NativeErrors.callFailed("pthread_sigmask(SIG_UNBLOCK, " + signal + ")", err);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
