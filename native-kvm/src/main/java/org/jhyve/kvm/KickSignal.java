package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jhyve.hv.HypervisorException;
import org.jhyve.posix.ErrnoException;
import org.jhyve.posix.Signals;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signal {@link KvmVcpu#kick()} sends to a vCPU thread to knock it out of {@code KVM_RUN}
 * (which then fails with EINTR), and its once-per-process installation.
 *
 * <p>Why a handler at all: KVM_RUN only notices a signal that is pending, and a signal whose disposition is
 * SIG_IGN is discarded at send time, while SIG_DFL for SIGUSR1 would kill the process. So the signal needs a
 * handler, one that does nothing. It cannot be a Java upcall: FFM upcalls are not async-signal-safe (they
 * may allocate, attach the thread to the VM, hit a safepoint). Instead {@code sa_handler} is the address of
 * libc's {@code getpid}: async-signal-safe, ignores its arguments (the C ABI lets a callee ignore the
 * {@code int signo} it is given), and returns straight away. glibc's {@code sigaction} adds its own
 * {@code SA_RESTORER} trampoline, so returning from it is an ordinary signal return.
 *
 * <p>Why SIGUSR1: HotSpot on Linux does not use it (it uses SIGUSR2 to suspend threads, and SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL, SIGQUIT, SIGPIPE, SIGXFSZ for its own purposes). No SA_RESTART: KVM_RUN returns EINTR on a
 * signal either way, and other blocking calls interrupted on a vCPU thread report EINTR, which the JDK's
 * native code already retries because HotSpot's own SIGUSR2 can arrive at any time.
 *
 * <p>A handler someone else installed for SIGUSR1 is left in place: any handler makes the signal interrupt
 * KVM_RUN. The installation result is held by a static final holder, initialised on first use.
 */
final class KickSignal {
    private KickSignal() {}

    private static final Logger log = LoggerFactory.getLogger(KickSignal.class);

    /** The signal number used for kicks. */
    static final int SIGNAL = Signals.SIGUSR1;

    /** Installs the handler on first call (thread-safe, through class initialisation); throws if it could not be. */
    static void ensureInstalled() {
        String failure = Holder.FAILURE;
        if (failure != null) throw new HypervisorException("cannot install the vCPU kick handler: " + failure);
    }

    private static final class Holder {
        /** Null when the handler is in place, else why not. */
        static final String FAILURE = install();
    }

    private static String install() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(Signals.SIGACTION);
            Signals.sigaction(SIGNAL, MemorySegment.NULL, old);
            long oldHandler = old.get(ADDRESS, Signals.SA_HANDLER).address();
            // SIG_DFL is 0 and SIG_IGN is 1; anything else is somebody's handler, which serves as well.
            if (oldHandler != 0 && oldHandler != 1) {
                log.info("SIGUSR1 already has a handler (0x{}); vCPU kicks will use it", Long.toHexString(oldHandler));
                return null;
            }
            MemorySegment act = arena.allocate(Signals.SIGACTION); // zeroed: empty mask, no flags
            act.set(ADDRESS, Signals.SA_HANDLER, Signals.getpidAddress());
            act.set(JAVA_INT, Signals.SA_FLAGS, 0);
            Signals.sigaction(SIGNAL, act, MemorySegment.NULL);
            log.debug("installed the no-op SIGUSR1 handler for vCPU kicks");
            return null;
        } catch (ErrnoException | RuntimeException | UnsatisfiedLinkError e) {
            return e.toString();
        }
    }
}
