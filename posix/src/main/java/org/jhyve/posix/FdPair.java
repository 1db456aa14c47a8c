package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Two connected descriptors, both close-on-exec (a {@link ChildProcess} gets only those it is handed):
 * a Unix stream socket pair, or a pipe. The caller owns both and closes them. Any thread may call these.
 */
public record FdPair(int first, int second) {
    private static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;
    // Each downcall in a holder class of its own: linked on its first call (Native says why).
    private static final class Socketpair { static final MethodHandle HANDLE = Native.errnoCall("socketpair",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS)); }
    private static final class Pipe2 { static final MethodHandle HANDLE = Native.errnoCall("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)); }

    /** {@code socketpair(AF_UNIX, SOCK_STREAM)}: both ends read and write. */
    public static FdPair unixStream() throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if ((int) Socketpair.HANDLE.invokeExact(s.callState(), AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
                throw new ErrnoException("socketpair", null, s.errno());
            }
            return new FdPair(fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code pipe2}: {@link #first} is the read end, {@link #second} the write end. */
    public static FdPair pipe() throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if ((int) Pipe2.HANDLE.invokeExact(s.callState(), fds, Libc.O_CLOEXEC) < 0) throw new ErrnoException("pipe2", null, s.errno());
            return new FdPair(fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
