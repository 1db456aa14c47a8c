package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A helper program jhyve starts and supervises (passt, the user-mode network), with descriptors of jhyve's
 * handed to it at numbers of its choosing: what {@link ProcessBuilder} cannot do, which passes only stdin,
 * stdout and stderr. Started with {@code posix_spawn}: glibc's runs the child on a vfork-style clone, so
 * nothing of the JVM runs between the fork and the exec, and an exec that fails is reported here.
 *
 * <p>The child gets exactly the descriptors it is given ({@link Fd}; every other one, the JVM's included,
 * is closed in it), the JVM's environment, a signal mask with nothing blocked and every signal at its default
 * (the JVM blocks and handles some), and a session of its own, so a terminal's Ctrl-C or hang-up reaches
 * jhyve, which decides, and not the helper behind its back.
 *
 * <p>One reaper thread per child waits for it to end and completes {@link #onExit}; it waits without
 * reaping first ({@code waitid} with WNOWAIT), so {@link #signal} never reaches another process that took the
 * pid of one already reaped. Any thread may call any method.
 */
public final class ChildProcess {
    /** The child's descriptor {@code child} is a copy of jhyve's {@code parent}. */
    public record Fd(int child, int parent) {}

    public static final int SIGKILL = 9, SIGTERM = 15, SIGCONT = 18, SIGSTOP = 19;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;
    private static final int P_PID = 1, WEXITED = 4, WNOWAIT = 0x01000000;
    /** glibc's posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, siginfo_t 128: room to spare. */
    private static final long OPAQUE_BYTES = 1024;

    // Each downcall in a holder class of its own: linked on its first call (Native says why).
    /** These return an error number rather than set errno. */
    private static final class FaInit { static final MethodHandle HANDLE = Native.call("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS)); }
    private static final class FaDestroy { static final MethodHandle HANDLE = Native.call("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS)); }
    private static final class FaDup2 { static final MethodHandle HANDLE = Native.call("posix_spawn_file_actions_adddup2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT)); }
    /** glibc 2.34+: closes every descriptor from the given one up, in the child. */
    private static final class FaClosefrom { static final MethodHandle HANDLE = Native.call("posix_spawn_file_actions_addclosefrom_np",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class AttrInit { static final MethodHandle HANDLE = Native.call("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS)); }
    private static final class AttrDestroy { static final MethodHandle HANDLE = Native.call("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS)); }
    private static final class AttrFlags { static final MethodHandle HANDLE = Native.call("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT)); }
    private static final class AttrSigmask { static final MethodHandle HANDLE = Native.call("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)); }
    private static final class AttrSigdefault { static final MethodHandle HANDLE = Native.call("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)); }
    private static final class Sigemptyset { static final MethodHandle HANDLE = Native.call("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS)); }
    private static final class Sigfillset { static final MethodHandle HANDLE = Native.call("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS)); }
    private static final class Spawn { static final MethodHandle HANDLE = Native.call("posix_spawn",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS)); }
    private static final class Waitid { static final MethodHandle HANDLE = Native.errnoCall("waitid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Waitpid { static final MethodHandle HANDLE = Native.errnoCall("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT)); }
    private static final class Kill { static final MethodHandle HANDLE = Native.errnoCall("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT)); }

    private final int pid;
    private final String name;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    /** Set, under this object's lock, once the child has ended and before it is reaped. */
    private boolean ended;

    private ChildProcess(int pid, String name) {
        this.pid = pid;
        this.name = name;
    }

    /**
     * Runs {@code argv} ({@code argv[0]} a path to the program: no PATH search) with {@code fds}; the other
     * descriptors are closed in the child. The child's descriptors are numbered from 0 up to the highest asked for.
     */
    public static ChildProcess spawn(List<String> argv, List<Fd> fds) throws ErrnoException {
        if (argv.isEmpty()) throw new IllegalArgumentException("no program");
        int highest = -1;
        for (Fd f : fds) highest = Math.max(highest, f.child());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(OPAQUE_BYTES, 16), attr = arena.allocate(OPAQUE_BYTES, 16);
            check("posix_spawn_file_actions_init", (int) FaInit.HANDLE.invokeExact(actions));
            check("posix_spawnattr_init", (int) AttrInit.HANDLE.invokeExact(attr));
            try {
                // dup2 clears close-on-exec on the copy; glibc clears it too where child == parent (it then
                // does no dup2 at all), so a descriptor that happens to have its number already is passed as well.
                for (Fd f : fds) check("posix_spawn_file_actions_adddup2", (int) FaDup2.HANDLE.invokeExact(actions, f.parent(), f.child()));
                check("posix_spawn_file_actions_addclosefrom_np", (int) FaClosefrom.HANDLE.invokeExact(actions, highest + 1));
                MemorySegment none = arena.allocate(Signals.SIGSET), all = arena.allocate(Signals.SIGSET);
                check("sigemptyset", (int) Sigemptyset.HANDLE.invokeExact(none));
                check("sigfillset", (int) Sigfillset.HANDLE.invokeExact(all));
                check("posix_spawnattr_setsigmask", (int) AttrSigmask.HANDLE.invokeExact(attr, none));
                check("posix_spawnattr_setsigdefault", (int) AttrSigdefault.HANDLE.invokeExact(attr, all));
                check("posix_spawnattr_setflags", (int) AttrFlags.HANDLE.invokeExact(attr,
                        (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID)));
                MemorySegment args = arena.allocate(ADDRESS, argv.size() + 1L);
                for (int i = 0; i < argv.size(); i++) args.setAtIndex(ADDRESS, i, arena.allocateFrom(argv.get(i)));
                args.setAtIndex(ADDRESS, argv.size(), MemorySegment.NULL);
                MemorySegment environ = Native.symbol("environ").reinterpret(ADDRESS.byteSize()).get(ADDRESS, 0);
                MemorySegment pidOut = arena.allocate(JAVA_INT);
                int error = (int) Spawn.HANDLE.invokeExact(pidOut, args.getAtIndex(ADDRESS, 0), actions, attr, args, environ);
                if (error != 0) throw new ErrnoException("posix_spawn", argv.get(0), error);
                ChildProcess child = new ChildProcess(pidOut.get(JAVA_INT, 0), argv.get(0));
                Thread.ofPlatform().name("jhyve-reaper-" + child.pid).daemon().start(child::reap);
                return child;
            } finally {
                int ignored = (int) FaDestroy.HANDLE.invokeExact(actions);
                ignored = (int) AttrDestroy.HANDLE.invokeExact(attr);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static void check(String function, int error) throws ErrnoException {
        if (error != 0) throw new ErrnoException(function, null, error);
    }

    public int pid() { return pid; }

    /**
     * Completes with the child's exit status once it has ended: 0-255 as it exited, or 128 + the signal that
     * killed it (as a shell says it).
     */
    public CompletableFuture<Integer> onExit() { return exit; }

    /** Sends {@code signal} unless the child has ended already (then there is nobody to send it to). */
    public synchronized void signal(int signal) {
        if (ended) return;
        Scratch s = Scratch.ofThisThread();
        try {
            int ignored = (int) Kill.HANDLE.invokeExact(s.callState(), pid, signal);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The reaper thread: waits for the end without reaping, marks it (so no signal goes out after), then reaps. */
    private void reap() {
        Scratch s = Scratch.ofThisThread();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(OPAQUE_BYTES, 8), status = arena.allocate(JAVA_INT);
            while ((int) Waitid.HANDLE.invokeExact(s.callState(), P_PID, pid, info, WEXITED | WNOWAIT) < 0) {
                if (s.errno() != Errno.EINTR) {
                    exit.completeExceptionally(new ErrnoException("waitid", name, s.errno()));
                    return;
                }
            }
            synchronized (this) {
                ended = true;
            }
            while ((int) Waitpid.HANDLE.invokeExact(s.callState(), pid, status, 0) < 0) {
                if (s.errno() != Errno.EINTR) {
                    exit.completeExceptionally(new ErrnoException("waitpid", name, s.errno()));
                    return;
                }
            }
            int w = status.get(JAVA_INT, 0);
            // WIFEXITED: the low 7 bits are 0 and the status is in bits 8-15; otherwise they are the signal.
            exit.complete((w & 0x7f) == 0 ? (w >> 8) & 0xff : 128 + (w & 0x7f));
        } catch (Throwable t) {
            exit.completeExceptionally(t);
        }
    }

    @Override
    public String toString() { return name + " (pid " + pid + ")"; }
}
