package org.jhyve.cli;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VirtualMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code jhyve} process's handler for an exception that ends a thread: a bug in jhyve, since every
 * worker is meant to contain what a guest does. Left to the JVM it would print a stack trace and let the
 * VM run on with a dead device (or, on the main thread, exit with status 1, "the guest powered off").
 * Instead the first one ends the running VM with {@link ExitStatus#ERROR}, whose reason names the thread
 * and the exception; one that comes while no VM runs is kept, and ends the VM as soon as one is running,
 * or makes the process exit 4 afterwards ({@link Main#main}).
 *
 * <p>Threads: {@link #uncaughtException} runs on whichever thread is dying; {@link #running} and
 * {@link #ended} on the thread that runs the VM. Both sides only touch the two atomic references.
 */
final class UncaughtFailures implements Thread.UncaughtExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(UncaughtFailures.class);

    private final AtomicReference<String> first = new AtomicReference<>();
    private final AtomicReference<VirtualMachine> vm = new AtomicReference<>();

    @Override
    public void uncaughtException(Thread thread, Throwable e) {
        String what = "thread " + thread.getName() + " died: " + Failures.describe(e);
        log.debug("{}", what, e); // the whole stack trace, for a bug report (-Dorg.slf4j.simpleLogger.defaultLogLevel=debug)
        first.compareAndSet(null, what);
        VirtualMachine running = vm.get();
        if (running != null) running.requestExit(ExitStatus.ERROR, first.get());
    }

    /** {@code machine} is started: a failure from now on (or one kept from before) ends it. */
    void running(VirtualMachine machine) {
        vm.set(machine);
        String failure = first.get();
        if (failure != null) machine.requestExit(ExitStatus.ERROR, failure);
    }

    /** The VM is closing: failures from now on are only kept. */
    void ended() {
        vm.set(null);
    }

    /** The first failure, if a thread died. */
    Optional<String> first() {
        return Optional.ofNullable(first.get());
    }
}
