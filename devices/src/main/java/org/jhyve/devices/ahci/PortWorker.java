package org.jhyve.devices.ahci;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.memory.MappingHold;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A thread that runs one port's commands, as bhyve's block-interface workers do, so a vCPU writing PxCI
 * only records the bits and returns; a port has one, or several to run native queued commands in parallel
 * (see {@link AhciPort}). Under the HBA's lock it takes the next command from the port; it
 * executes it (file I/O, DMA into guest memory) without the lock, so register reads on other vCPUs never
 * wait for the disk; then it hands the outcome back to the port under the lock. It waits on a condition of
 * the HBA's lock when the port has nothing to run (stopped, halted after an error, or no PxCI bit), so a guest
 * cannot make it spin. Stopped with a flag, never {@link Thread#interrupt}: a command in hand always finishes.
 *
 * <p>Nothing the guest provokes ends the thread. The device's own exceptions become the command's outcome
 * ({@link CommandOutcome}); the HBA contains interrupt delivery faults; and any other runtime exception while
 * fetching or completing a command is handed to {@link AhciPort#workerFault}, which fails the port as an
 * internal error, so the worker waits for the guest's recovery (ST cleared) instead of spinning on the same
 * fault. Only an {@link Error} ends the thread; the port then starts a new worker at the guest's next HBA reset
 * or COMRESET ({@link #alive}).
 *
 * <p>The worker holds guest RAM's mapping for its whole life ({@link org.jhyve.memory.GuestMemory#hold}): the
 * backends it calls move data with preadv/pwritev on raw guest addresses, and a VM closing while one of those
 * is stuck must not unmap the memory it will write.
 */
final class PortWorker {
    private static final Logger log = LoggerFactory.getLogger(PortWorker.class);

    private final AhciPort port;
    private final ReentrantLock lock;
    private final Condition work;
    private final Runnable interruptsChanged;
    private final Thread thread;
    /** Keeps guest RAM mapped while this thread may have guest addresses in a backend call; closed when it ends. */
    private final MappingHold ramHold;
    // Guarded by lock.
    private boolean stopping, signalled, waiting;
    /** The command this worker took and has not handed back yet (a dead worker's never returns). */
    private IssuedCommand current;

    /** A worker for {@code port}; it holds guest RAM from now until its thread ends (see {@link #start}). */
    PortWorker(String threadName, AhciPort port, PortHost host) {
        this.ramHold = host.memory().hold();
        this.port = port;
        this.lock = host.lock();
        this.work = lock.newCondition();
        this.interruptsChanged = host.interruptsChanged();
        this.thread = Thread.ofPlatform().daemon().name(threadName)
                .uncaughtExceptionHandler((t, e) -> log.error("{} ended: {}; the port gets a new worker at its next reset", t.getName(), e, e))
                .unstarted(this::run);
    }

    void start() {
        try {
            thread.start();
        } catch (RuntimeException | Error e) {
            ramHold.close();
            throw e;
        }
    }

    /** The port may have work (PxCI written, engine started). Caller holds the lock. */
    void signal() {
        assert lock.isHeldByCurrentThread();
        signalled = true;
        work.signal();
    }

    /** Asks the worker to end once the command in hand (if any) is finished. Caller holds the lock. */
    void stop() {
        assert lock.isHeldByCurrentThread();
        stopping = true;
        work.signal();
    }

    /** Whether the worker waits with nothing to do and has seen every signal. Caller holds the lock. */
    boolean idle() {
        assert lock.isHeldByCurrentThread();
        return waiting && !signalled;
    }

    /** The command in hand, or null. Caller holds the lock. */
    IssuedCommand current() {
        assert lock.isHeldByCurrentThread();
        return current;
    }

    /** Whether the thread has started and not ended. */
    boolean alive() {
        return thread.isAlive();
    }

    /** Waits up to {@code timeout} for the thread to end; whether it did. */
    boolean join(Duration timeout) throws InterruptedException {
        return thread.join(timeout);
    }

    private void run() {
        try (ramHold) {
            serve();
        }
    }

    private void serve() {
        IssuedCommand command;
        while ((command = next()) != null) {
            CommandOutcome outcome = CommandOutcome.execute(port.device(), command.command());
            lock.lock();
            try {
                current = null;
                port.complete(command, outcome);
            } catch (RuntimeException e) {
                port.workerFault(command, e);
            } finally {
                try {
                    interruptsChanged.run();
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** The next command to execute, or null once stopping. */
    private IssuedCommand next() {
        lock.lock();
        try {
            while (!stopping) {
                signalled = false;
                IssuedCommand command;
                try {
                    command = port.nextCommand();
                } catch (RuntimeException e) {
                    port.workerFault(null, e);
                    command = null;
                }
                // Commands handled without the device (control FISes, faults) may have set PxIS bits.
                interruptsChanged.run();
                if (command != null) {
                    current = command;
                    port.commandTaken();
                    return command;
                }
                waiting = true;
                work.awaitUninterruptibly();
                waiting = false;
            }
            return null;
        } finally {
            lock.unlock();
        }
    }
}
