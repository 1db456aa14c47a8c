package org.jhyve.devices.ahci;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The thread that runs one port's commands, as bhyve's block-interface workers do, so a vCPU writing PxCI
 * only records the bits and returns. Under the HBA's lock it takes the next command from the port; it
 * executes it (file I/O, DMA into guest memory) without the lock, so register reads on other vCPUs never
 * wait for the disk; then it hands the outcome back to the port under the lock. It waits on a condition of
 * the HBA's lock when the port has nothing to run (stopped, halted after an error, or no PxCI bit), so a guest
 * cannot make it spin. Stopped with a flag, never {@link Thread#interrupt}: a command in hand always finishes.
 */
final class PortWorker {
    private final AhciPort port;
    private final ReentrantLock lock;
    private final Condition work;
    private final Runnable interruptsChanged;
    private final Thread thread;
    // Guarded by lock.
    private boolean stopping, signalled, waiting;

    PortWorker(String threadName, AhciPort port, PortHost host) {
        this.port = port;
        this.lock = host.lock();
        this.work = lock.newCondition();
        this.interruptsChanged = host.interruptsChanged();
        this.thread = Thread.ofPlatform().daemon().name(threadName).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    /** The port may have work (PxCI written, engine started). Caller holds the lock. */
    void signal() {
        signalled = true;
        work.signal();
    }

    /** Asks the worker to end once the command in hand (if any) is finished. Caller holds the lock. */
    void stop() {
        stopping = true;
        work.signal();
    }

    /** Whether the worker waits with nothing to do and has seen every signal. Caller holds the lock. */
    boolean idle() {
        return waiting && !signalled;
    }

    /** Waits up to {@code millis} for the thread to end; whether it did. */
    boolean join(Duration timeout) throws InterruptedException {
        return thread.join(timeout);
    }

    private void run() {
        IssuedCommand command;
        while ((command = next()) != null) {
            CommandOutcome outcome = CommandOutcome.execute(port.device(), command.command());
            lock.lock();
            try {
                port.complete(command, outcome);
                interruptsChanged.run();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The next command to execute, or null once stopping. */
    private IssuedCommand next() {
        lock.lock();
        try {
            while (!stopping) {
                signalled = false;
                IssuedCommand command = port.nextCommand();
                // Commands handled without the device (control FISes, faults) may have set PxIS bits.
                interruptsChanged.run();
                if (command != null) return command;
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
