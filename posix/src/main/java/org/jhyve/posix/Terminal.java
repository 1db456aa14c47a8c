package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Terminals and pseudo-terminals, for the serial ports on jhyve's own terminal and on a new pty: raw mode
 * (saved, set, restored) and a pty master with its slave's path. Any thread may call these; the settings
 * themselves belong to the terminal, so two callers changing one terminal's at once get one or the other.
 */
public final class Terminal {
    private Terminal() {}

    public static final int TCSANOW = 0;
    /** glibc's {@code struct termios} on x86-64 is 60 bytes; a larger buffer costs nothing and keeps us safe. */
    public static final long TERMIOS_BYTES = 64;
    private static final long PTS_NAME_BYTES = 256;

    // Each downcall in a holder class of its own: linked on its first call (Native says why).
    private static final class Isatty { static final MethodHandle HANDLE = Native.errnoCall("isatty", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Tcgetattr { static final MethodHandle HANDLE = Native.errnoCall("tcgetattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Tcsetattr { static final MethodHandle HANDLE = Native.errnoCall("tcsetattr",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Cfmakeraw { static final MethodHandle HANDLE = Native.call("cfmakeraw", FunctionDescriptor.ofVoid(ADDRESS)); }
    private static final class PosixOpenpt { static final MethodHandle HANDLE = Native.errnoCall("posix_openpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Grantpt { static final MethodHandle HANDLE = Native.errnoCall("grantpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    private static final class Unlockpt { static final MethodHandle HANDLE = Native.errnoCall("unlockpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT)); }
    /** Returns the error number itself rather than setting errno. */
    private static final class PtsnameR { static final MethodHandle HANDLE = Native.call("ptsname_r", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG)); }

    /** Whether {@code fd} is a terminal. */
    public static boolean isatty(int fd) {
        try {
            return (int) Isatty.HANDLE.invokeExact(Scratch.ofThisThread().callState(), fd) == 1;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The terminal's current settings, as an opaque buffer in {@code arena} to restore later. */
    public static MemorySegment attributes(int fd, Arena arena) throws ErrnoException {
        MemorySegment termios = arena.allocate(TERMIOS_BYTES);
        Scratch s = Scratch.ofThisThread();
        try {
            if ((int) Tcgetattr.HANDLE.invokeExact(s.callState(), fd, termios) < 0) throw new ErrnoException("tcgetattr", null, s.errno());
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return termios;
    }

    /** Applies {@code termios} (from {@link #attributes} or {@link #rawCopy}) at once. */
    public static void setAttributes(int fd, MemorySegment termios) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        try {
            if ((int) Tcsetattr.HANDLE.invokeExact(s.callState(), fd, TCSANOW, termios) < 0) throw new ErrnoException("tcsetattr", null, s.errno());
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** A copy of {@code termios} in raw mode, in {@code arena}: no echo, no line editing, no signals from keys. */
    public static MemorySegment rawCopy(MemorySegment termios, Arena arena) {
        MemorySegment raw = arena.allocate(TERMIOS_BYTES);
        raw.copyFrom(termios);
        try {
            Cfmakeraw.HANDLE.invokeExact(raw);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return raw;
    }

    /** A new pseudo-terminal master opened with {@code flags} (O_RDWR and more), granted and unlocked. */
    public static int openPtyMaster(int flags) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        try {
            int fd = (int) PosixOpenpt.HANDLE.invokeExact(s.callState(), flags);
            if (fd < 0) throw new ErrnoException("posix_openpt", null, s.errno());
            String failed = (int) Grantpt.HANDLE.invokeExact(s.callState(), fd) < 0 ? "grantpt"
                    : (int) Unlockpt.HANDLE.invokeExact(s.callState(), fd) < 0 ? "unlockpt" : null;
            if (failed == null) return fd;
            ErrnoException e = new ErrnoException(failed, null, s.errno());
            Posix.closeQuietly(fd);
            throw e;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The path of the slave side of pty master {@code masterFd}, e.g. {@code /dev/pts/3}. */
    public static String ptsName(int masterFd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(PTS_NAME_BYTES);
            int err = (int) PtsnameR.HANDLE.invokeExact(masterFd, buf, PTS_NAME_BYTES);
            if (err != 0) throw new ErrnoException("ptsname_r", null, err);
            return buf.getString(0);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
