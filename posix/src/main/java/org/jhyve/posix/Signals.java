package org.jhyve.posix;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * Threads and signals, for kicking a vCPU thread out of KVM_RUN: kernel thread ids, a signal to one thread,
 * handlers and the thread's signal mask. Layouts and numbers are glibc's on x86-64 Linux. Any thread may call these.
 */
public final class Signals {
    private Signals() {}

    public static final int SIGUSR1 = 10;
    public static final int SIG_BLOCK = 0, SIG_UNBLOCK = 1;
    private static final long SYS_GETTID = 186;
    private static final long SYS_TGKILL = 234;

    /** glibc's {@code struct sigaction} on x86-64 (not the kernel's): handler, 1024-bit mask, flags, restorer. */
    public static final StructLayout SIGACTION = MemoryLayout.structLayout(
            ADDRESS.withName("sa_handler"),
            MemoryLayout.sequenceLayout(16, JAVA_LONG).withName("sa_mask"),
            JAVA_INT.withName("sa_flags"), MemoryLayout.paddingLayout(4),
            ADDRESS.withName("sa_restorer")).withName("sigaction");
    public static final long SA_HANDLER = SIGACTION.byteOffset(groupElement("sa_handler"));
    public static final long SA_MASK = SIGACTION.byteOffset(groupElement("sa_mask"));
    public static final long SA_FLAGS = SIGACTION.byteOffset(groupElement("sa_flags"));
    /** glibc's {@code sigset_t}: 1024 bits. */
    public static final MemoryLayout SIGSET = MemoryLayout.sequenceLayout(16, JAVA_LONG);

    // Each downcall in a holder class of its own: linked on its first call (Native says why).
    /** {@code long syscall(long number, ...)} with no further arguments: gettid. */
    private static final class Syscall0 { static final MethodHandle HANDLE = Native.call("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1)); }
    /** {@code long syscall(long number, ...)} with three: tgkill. */
    private static final class Syscall3 { static final MethodHandle HANDLE = Native.errnoCall("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1)); }
    private static final class SigactionCall { static final MethodHandle HANDLE = Native.errnoCall("sigaction", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS)); }
    /**
     * Returns an error number instead of setting errno; linked with errno captured all the same, so that it has
     * sigaction's shape and shares its linked stub (each new shape costs a start about 10 ms: Native).
     */
    private static final class PthreadSigmask { static final MethodHandle HANDLE = Native.errnoCall("pthread_sigmask", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS)); }

    /** This process's id: the JDK's (it asked getpid(2) once), so that no downcall is linked for it. */
    public static int getpid() {
        return (int) ProcessHandle.current().pid();
    }

    /** The address of libc's {@code getpid}: a handler that is async-signal-safe and does nothing (see native-kvm's KickSignal). */
    public static MemorySegment getpidAddress() {
        return Native.symbol("getpid");
    }

    /** The calling thread's kernel thread id; glibc before 2.30 has no gettid(), so through syscall(2). */
    public static int gettid() {
        try {
            return (int) (long) Syscall0.HANDLE.invokeExact(SYS_GETTID);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Sends {@code signal} to thread {@code tid} of process {@code pid}; returns errno, 0 on success. */
    public static int tgkill(int pid, int tid, int signal) {
        Scratch s = Scratch.ofThisThread();
        try {
            long r = (long) Syscall3.HANDLE.invokeExact(s.callState(), SYS_TGKILL, (long) pid, (long) tid, (long) signal);
            return r < 0 ? s.errno() : 0;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code sigaction(signal, act, oldact)} with {@link #SIGACTION} structs; either may be NULL. */
    public static void sigaction(int signal, MemorySegment act, MemorySegment oldact) throws ErrnoException {
        Scratch s = Scratch.ofThisThread();
        int r;
        try {
            r = (int) SigactionCall.HANDLE.invokeExact(s.callState(), signal, act, oldact);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (r < 0) throw new ErrnoException("sigaction", "signal " + signal, s.errno());
    }

    /** Unblocks {@code signal} in the calling thread's mask. */
    public static void unblock(int signal) throws ErrnoException {
        int err;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(SIGSET);
            set.set(JAVA_LONG, 0, 1L << (signal - 1));
            err = (int) PthreadSigmask.HANDLE.invokeExact(Scratch.ofThisThread().callState(), SIG_UNBLOCK, set, MemorySegment.NULL);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (err != 0) throw new ErrnoException("pthread_sigmask", "SIG_UNBLOCK " + signal, err);
    }
}
