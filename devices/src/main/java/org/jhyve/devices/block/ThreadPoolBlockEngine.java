package org.jhyve.devices.block;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link BlockEngine} of platform threads that each run one request at a time through the disk's {@link
 * BlockExecutor}, blocking in preadv/pwritev/fdatasync (QEMU's aio=threads). Platform threads, not virtual
 * ones: an FFM downcall pins a virtual thread to its carrier for the whole call, so virtual threads would
 * give no more parallelism than carriers. Threads start when requests wait and no thread is idle, up to
 * {@code maxThreads}, and stay until {@link #close} (an engine lives for one activation of its device, so a
 * guest that never does I/O costs no threads, and one reset ends them).
 *
 * <p>Submitting allocates nothing: requests wait in a growable ring of pairs (it grows only when more are
 * queued than ever before).
 *
 * <p>Threading: {@link BlockEngine}'s. Completions are called on the engine's threads; one that throws is
 * logged and the thread serves on.
 */
public final class ThreadPoolBlockEngine implements BlockEngine {
    private static final Logger log = LoggerFactory.getLogger(ThreadPoolBlockEngine.class);

    private final String name;
    private final BlockExecutor executor;
    private final int maxThreads;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition queued = lock.newCondition();
    // Guarded by lock.
    private BlockRequest[] requests;
    private BlockCompletion[] completions;
    private int first, count, threads, idle;
    private boolean closed;

    /** {@code name} names the threads ({@code NAME-io-N}). */
    public ThreadPoolBlockEngine(String name, BlockExecutor executor, int maxThreads) {
        if (maxThreads < 1) throw new IllegalArgumentException("at least one thread, not " + maxThreads);
        this.name = name;
        this.executor = executor;
        this.maxThreads = maxThreads;
        this.requests = new BlockRequest[16];
        this.completions = new BlockCompletion[16];
    }

    @Override
    public void submit(BlockRequest request, BlockCompletion done) {
        boolean startThread;
        lock.lock();
        try {
            if (closed) throw new IllegalStateException(name + ": I/O engine closed");
            if (count == requests.length) grow();
            int at = (first + count) % requests.length;
            requests[at] = request;
            completions[at] = done;
            count++;
            // More waiting than idle threads to take them: one more thread, if allowed (an idle thread that was
            // signalled but has not woken yet is still counted idle, so a burst starts threads for the rest).
            startThread = count > idle && threads < maxThreads;
            if (startThread) threads++;
            if (idle > 0) queued.signal();
        } finally {
            lock.unlock();
        }
        if (startThread) startThread();
    }

    private void grow() {
        BlockRequest[] r = new BlockRequest[requests.length * 2];
        BlockCompletion[] c = new BlockCompletion[r.length];
        for (int i = 0; i < count; i++) {
            r[i] = requests[(first + i) % requests.length];
            c[i] = completions[(first + i) % requests.length];
        }
        requests = r;
        completions = c;
        first = 0;
    }

    private void startThread() {
        int n;
        lock.lock();
        try {
            n = threads;
        } finally {
            lock.unlock();
        }
        try {
            Thread.ofPlatform().name(name + "-io-" + n).daemon().start(this::serve);
        } catch (RuntimeException | OutOfMemoryError e) {
            // No thread: the requests wait for the ones there are (there is at least one unless this was the first).
            lock.lock();
            try {
                threads--;
            } finally {
                lock.unlock();
            }
            log.error("{}: could not start an I/O thread: {}", name, e.toString());
            if (threads() == 0) failQueued(e instanceof RuntimeException r ? r : new IllegalStateException(e));
        }
    }

    private void serve() {
        while (true) {
            BlockRequest request;
            BlockCompletion done;
            lock.lock();
            try {
                while (count == 0 && !closed) {
                    idle++;
                    queued.awaitUninterruptibly();
                    idle--;
                }
                if (count == 0) {
                    threads--;
                    return;
                }
                request = requests[first];
                done = completions[first];
                requests[first] = null;
                completions[first] = null;
                first = (first + 1) % requests.length;
                count--;
            } finally {
                lock.unlock();
            }
            run(request, done);
        }
    }

    private void run(BlockRequest request, BlockCompletion done) {
        BlockOutcome outcome;
        try {
            outcome = executor.execute(request);
        } catch (RuntimeException e) {
            notifyFailed(done, e);
            return;
        }
        try {
            done.completed(outcome);
        } catch (RuntimeException e) {
            log.error("{}: a request's completion failed: {}", name, e, e);
        }
    }

    private void notifyFailed(BlockCompletion done, RuntimeException fault) {
        try {
            done.failed(fault);
        } catch (RuntimeException e) {
            log.error("{}: a request's completion failed: {}", name, e, e);
        }
    }

    /** Without any thread the queued requests would never end: they end as faults. */
    private void failQueued(RuntimeException why) {
        while (true) {
            BlockCompletion done;
            lock.lock();
            try {
                if (count == 0 || threads > 0) return;
                done = completions[first];
                requests[first] = null;
                completions[first] = null;
                first = (first + 1) % requests.length;
                count--;
            } finally {
                lock.unlock();
            }
            notifyFailed(done, why);
        }
    }

    /** Threads running now, for tests. */
    int threads() {
        lock.lock();
        try {
            return threads;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            queued.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
