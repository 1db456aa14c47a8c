package org.jhyve.devices.uart;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.io.IOException;

/** The few libc calls the serial backends need (terminals and pseudo-terminals), through FFM. */
final class Posix {
    private Posix() {}

    static final int O_RDONLY = 0x0, O_RDWR = 0x2, O_NONBLOCK = 0x800, O_NOCTTY = 0x100, O_CLOEXEC = 0x80000;
    static final int EAGAIN = 11;
    static final int TCSANOW = 0;
    static final int EINTR = 4;
    /** glibc's struct termios on x86-64 is 60 bytes; a larger buffer costs nothing and keeps us safe. */
    static final long TERMIOS_SIZE = 64;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;

    private static MethodHandle call(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd, CAPTURE);
    }

    private static final MethodHandle OPEN = call("open", FunctionDescriptor.of(INT, PTR, INT));
    private static final MethodHandle READ = call("read", FunctionDescriptor.of(LONG, INT, PTR, LONG));
    private static final MethodHandle WRITE = call("write", FunctionDescriptor.of(LONG, INT, PTR, LONG));
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle ISATTY = call("isatty", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle TCGETATTR = call("tcgetattr", FunctionDescriptor.of(INT, INT, PTR));
    private static final MethodHandle TCSETATTR = call("tcsetattr", FunctionDescriptor.of(INT, INT, INT, PTR));
    private static final MethodHandle CFMAKERAW = LINKER.downcallHandle(LIBC.find("cfmakeraw").orElseThrow(),
            FunctionDescriptor.ofVoid(PTR));
    private static final MethodHandle POLL = call("poll", FunctionDescriptor.of(INT, PTR, LONG, INT));
    private static final MethodHandle POSIX_OPENPT = call("posix_openpt", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle GRANTPT = call("grantpt", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle UNLOCKPT = call("unlockpt", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle PTSNAME_R = call("ptsname_r", FunctionDescriptor.of(INT, INT, PTR, LONG));

    /** The result of a call plus errno, so callers can report the host's reason. */
    private record Result(long value, int errno) {}

    private static Result invoke(MethodHandle h, Object... args) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            Object[] all = new Object[args.length + 1];
            all[0] = state;
            System.arraycopy(args, 0, all, 1, args.length);
            Object r = h.invokeWithArguments(all);
            long v = r instanceof Integer i ? i : (Long) r;
            return new Result(v, (int) ERRNO.get(state, 0L));
        } catch (Throwable t) {
            throw new IllegalStateException("libc call failed: " + t, t);
        }
    }

    private static long check(String what, Result r) throws IOException {
        if (r.value() < 0) throw new IOException(what + " failed (errno " + r.errno() + ")");
        return r.value();
    }

    static int open(String path, int flags) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            return (int) check("open " + path, invoke(OPEN, a.allocateFrom(path), flags));
        }
    }

    /** Reads into {@code buf}; 0 at end of file, -1 when a non-blocking fd has nothing (EAGAIN); retries EINTR. */
    static int read(int fd, MemorySegment buf) throws IOException {
        while (true) {
            Result r = invoke(READ, fd, buf, buf.byteSize());
            if (r.value() < 0 && r.errno() == EINTR) continue;
            if (r.value() < 0 && r.errno() == EAGAIN) return -1;
            return (int) check("read", r);
        }
    }

    /** Writes what it can of {@code data} without waiting (the fd is O_NONBLOCK); returns that count, 0 when full (EAGAIN). */
    static int writeSome(int fd, MemorySegment data) throws IOException {
        while (true) {
            Result r = invoke(WRITE, fd, data, data.byteSize());
            if (r.value() < 0 && r.errno() == EINTR) continue;
            if (r.value() < 0 && r.errno() == EAGAIN) return 0;
            return (int) check("write", r);
        }
    }

    static void close(int fd) {
        invoke(CLOSE, fd);
    }

    static boolean isatty(int fd) {
        return invoke(ISATTY, fd).value() == 1;
    }

    /** The terminal's current settings, as an opaque buffer to restore later. */
    static MemorySegment getTermios(int fd, Arena arena) throws IOException {
        MemorySegment t = arena.allocate(TERMIOS_SIZE);
        check("tcgetattr", invoke(TCGETATTR, fd, t));
        return t;
    }

    static void setTermios(int fd, MemorySegment termios) throws IOException {
        check("tcsetattr", invoke(TCSETATTR, fd, TCSANOW, termios));
    }

    /** Turns a copy of {@code termios} into raw mode: no echo, no line editing, no signals from keys. */
    static MemorySegment rawCopy(MemorySegment termios, Arena arena) {
        MemorySegment raw = arena.allocate(TERMIOS_SIZE);
        raw.copyFrom(termios);
        try {
            CFMAKERAW.invokeExact(raw);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return raw;
    }

    static final short POLLIN = 0x1, POLLOUT = 0x4;

    /** Waits up to {@code timeoutMillis} for {@code fd} to be readable (or hung up); true if so. */
    static boolean pollReadable(int fd, int timeoutMillis) throws IOException {
        return poll(fd, POLLIN, timeoutMillis);
    }

    /** Waits up to {@code timeoutMillis} for {@code fd} to take a write (or fail one); true if so. */
    static boolean pollWritable(int fd, int timeoutMillis) throws IOException {
        return poll(fd, POLLOUT, timeoutMillis);
    }

    private static boolean poll(int fd, short events, int timeoutMillis) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd = a.allocate(8, 4);
            pfd.set(INT, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, events);
            Result r = invoke(POLL, pfd, 1L, timeoutMillis);
            if (r.value() < 0 && r.errno() == EINTR) return false;
            return check("poll", r) > 0;
        }
    }

    /** A new pseudo-terminal master, non-blocking (writes to a terminal nobody reads must not stall a vCPU). */
    static int openPtyMaster() throws IOException {
        int fd = (int) check("posix_openpt", invoke(POSIX_OPENPT, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
        try {
            check("grantpt", invoke(GRANTPT, fd));
            check("unlockpt", invoke(UNLOCKPT, fd));
            return fd;
        } catch (IOException e) {
            close(fd);
            throw e;
        }
    }

    static String ptsName(int masterFd) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            Result r = invoke(PTSNAME_R, masterFd, buf, 256L);
            if (r.value() != 0) throw new IOException("ptsname_r failed (error " + r.value() + ")");
            return buf.getString(0);
        }
    }
}
