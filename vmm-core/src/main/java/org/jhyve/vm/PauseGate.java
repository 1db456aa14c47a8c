package org.jhyve.vm;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * Parks the vCPU threads between two runs while the VM is paused, and lets them go once it ends.
 *
 * <p>Threads: {@link #awaitRunnable} on each vCPU thread before each run (two volatile reads unless paused);
 * {@link #pause}, {@link #resume} and {@link #isPaused} on the embedder's threads; {@link #vmEnded} on the
 * thread that ended the VM. The rest happens under one lock, which nothing else takes while holding it.
 */
final class PauseGate {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile boolean pauseRequested;
    private volatile boolean ended;
    /** vCPU threads parked here now. */
    private int parked;

    /** Before each run: false once the VM is ending; parks while paused. */
    boolean awaitRunnable() {
        if (ended) return false;
        if (!pauseRequested) return true;
        lock.lock();
        try {
            parked++;
            changed.signalAll();
            while (pauseRequested && !ended) changed.awaitUninterruptibly();
            parked--;
            return !ended;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Asks the vCPUs to park, {@code kickAll} getting them out of the guest, and returns once {@code liveThreads}
     * of them are parked, or the VM has ended.
     */
    void pause(Runnable kickAll, IntSupplier liveThreads) {
        lock.lock();
        try {
            pauseRequested = true;
            kickAll.run();
            while (parked < liveThreads.getAsInt() && !ended) changed.awaitUninterruptibly();
        } finally {
            lock.unlock();
        }
    }

    void resume() {
        lock.lock();
        try {
            pauseRequested = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean isPaused(IntSupplier liveThreads) {
        lock.lock();
        try {
            return pauseRequested && parked >= liveThreads.getAsInt();
        } finally {
            lock.unlock();
        }
    }

    /** The VM ended: parked vCPUs leave, and a {@link #pause} waiting for them returns. Idempotent. */
    void vmEnded() {
        lock.lock();
        try {
            ended = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
