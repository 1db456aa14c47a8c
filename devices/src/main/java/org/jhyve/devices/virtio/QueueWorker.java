package org.jhyve.devices.virtio;

import java.time.Duration;
import java.util.List;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.memory.GuestMemoryException;
import org.jhyve.memory.MappingHold;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one request/response queue on its own platform thread, off the vCPU threads: waits for the queue's
 * doorbell, takes every available chain, hands each to the device's {@link Handler}, returns it on the used
 * ring, and interrupts the driver once per batch when it asks for it. Notifications are suppressed while the
 * worker is busy anyway.
 *
 * <p>Threading rules. {@link #start} and {@link #close} are called by the device (on a vCPU thread, during a
 * reset or activation under the transport's lock, or on the thread closing the VM); everything else runs on the
 * worker's own thread. What the guest can provoke does not end the thread early: an interrupt the platform
 * refuses (an MSI to no vCPU) is counted and logged, rate-limited, and the queue is served on. A queue the
 * driver broke (a bad chain, a ring outside RAM) and a device-model bug end the worker after telling the
 * transport ({@link VirtioQueues#fail}: DEVICE_NEEDS_RESET), since the virtio way out is the driver's reset,
 * which starts new workers.
 *
 * <p>Lifetime. The worker tells the transport when it starts and when it has stopped touching guest memory and
 * the queue for good ({@link VirtioQueues#workerStarted}, {@link VirtioQueues#workerStopped}); between the two it
 * holds guest RAM's mapping ({@link org.jhyve.memory.GuestMemory#hold}), because a handler may be inside a
 * backend's preadv on raw guest addresses. {@link #close} waits a bounded time: a handler stuck in a backend that
 * never returns does not hang the resetting vCPU. Once closed the worker takes no new chain, and a chain whose
 * handler returns after the close is not put on the used ring and interrupts nobody: after a reset the queue
 * belongs to the driver again.
 */
public final class QueueWorker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueWorker.class);

    /**
     * How long {@link #close()} waits for the chain in hand. Long enough for any healthy request to finish
     * (a reset normally finds the worker waiting for its doorbell, and ends it in microseconds), short enough
     * that a vCPU resetting a device whose backend hangs gets on.
     */
    public static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

    /** Serves one chain; returns how many bytes it wrote into the chain's writable buffers. */
    @FunctionalInterface
    public interface Handler {
        int handle(DescriptorChain chain) throws VirtqueueException;
    }

    private final VirtioQueues queues;
    private final int index;
    private final Handler handler;
    private final GuestErrorLog errors;
    private final MappingHold ramHold;
    private final Thread thread;
    /** Set by {@link #close}: take no new chain, complete none. */
    private volatile boolean stopping;

    private QueueWorker(String name, VirtioQueues queues, int index, Handler handler, GuestErrorLog errors) {
        this.queues = queues;
        this.index = index;
        this.handler = handler;
        this.errors = errors;
        this.ramHold = queues.memory().hold();
        this.thread = Thread.ofPlatform().name(name).daemon()
                .uncaughtExceptionHandler((t, e) -> log.error("{} ended: {}", t.getName(), e, e))
                .unstarted(this::run);
    }

    /** Starts serving queue {@code index} (which the driver enabled) on a thread named {@code name}. */
    public static QueueWorker start(String name, VirtioQueues queues, int index, Handler handler) {
        return start(name, queues, index, handler, new GuestErrorLog(log, name));
    }

    /**
     * As {@link #start(String, VirtioQueues, int, Handler)}, logging contained faults to {@code errors}: pass
     * the device's own log, which outlives its workers, so that a guest resetting the device over and over
     * stays rate-limited.
     */
    public static QueueWorker start(String name, VirtioQueues queues, int index, Handler handler, GuestErrorLog errors) {
        QueueWorker w = new QueueWorker(name, queues, index, handler, errors);
        queues.workerStarted();
        try {
            w.thread.start();
        } catch (RuntimeException | Error e) {
            w.ramHold.close();
            queues.workerStopped();
            throw e;
        }
        return w;
    }

    private void run() {
        try (ramHold) {
            serve();
        } catch (Error e) {
            failQueue("queue " + index + ": worker ended by " + e);
            throw e;
        } finally {
            queues.workerStopped();
        }
    }

    private void serve() {
        SplitQueue queue = queues.queue(index);
        try {
            do {
                do {
                    queue.disableNotifications();
                    DescriptorChain chain;
                    while (!stopping && (chain = queue.pop()) != null) {
                        int written = handler.handle(chain);
                        if (stopping) return; // closed while the handler ran: the queue is the driver's again
                        queue.addUsed(chain.head(), written);
                    }
                } while (!stopping && queue.enableNotifications());
                if (!stopping && queue.needsInterrupt()) interrupt();
            } while (!stopping && queues.doorbell(index).await());
        } catch (VirtqueueException | GuestMemoryException e) {
            failQueue("queue " + index + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // A device bug must not take the VMM down: contain it to this device.
            errors.fault("queue " + index + ": device error", e);
            failQueue("queue " + index + ": device error " + e);
        }
    }

    /**
     * The platform may refuse the interrupt the guest set up (KVM finds no vCPU for the MSI's destination, or
     * the VM is closing): the driver then learns of the used entries at its next interrupt or poll, as after a
     * lost interrupt on real hardware. The queue goes on either way.
     */
    private void interrupt() {
        try {
            queues.interrupt(index);
        } catch (RuntimeException e) {
            errors.fault("queue " + index + ": interrupt not delivered", e);
        }
    }

    private void failQueue(String reason) {
        if (stopping) return; // a reset is under way: the driver is not listening
        try {
            queues.fail(reason);
        } catch (RuntimeException e) {
            // Telling the driver needs a configuration interrupt, which may be refused as well.
            errors.fault("queue " + index + ": could not report DEVICE_NEEDS_RESET", e);
        }
    }

    /** Faults contained so far (refused interrupts, device errors), counted in this worker's log. */
    long faults() {
        return errors.count();
    }

    /** Whether the worker has stopped for good (or the chain it was stuck in has since returned). */
    public boolean ended() {
        return !thread.isAlive();
    }

    /**
     * Stops the worker: it takes no new chain, and waits up to {@code wait} for the chain in hand; returns whether
     * the worker ended. The doorbell must be closed first (a worker waiting for it otherwise waits on). One that has
     * not ended is inside its handler (a backend call that does not return): it ends by itself when that returns,
     * without touching the queue, and says so through {@link VirtioQueues#workerStopped}.
     */
    public boolean close(Duration wait) {
        stopping = true;
        try {
            return thread.join(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ended();
        }
    }

    /** {@link #close(Duration)} with {@link #CLOSE_WAIT}. */
    @Override
    public void close() {
        if (!close(CLOSE_WAIT)) {
            errors.report("%s: still inside a request after %d ms (its backend does not return); it stops when that returns",
                    thread.getName(), CLOSE_WAIT.toMillis());
        }
    }

    /**
     * Closes every worker in {@code workers} within {@code wait} in all (not each); returns whether all ended.
     * Each is told to stop before the first is waited for.
     */
    public static boolean closeAll(List<QueueWorker> workers, Duration wait) {
        for (QueueWorker w : workers) w.stopping = true;
        long deadline = System.nanoTime() + wait.toNanos();
        boolean all = true;
        for (QueueWorker w : workers) {
            if (!w.close(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                all = false;
                w.errors.report("%s: still inside a request after %d ms (its backend does not return); it stops when that returns",
                        w.thread.getName(), wait.toMillis());
            }
        }
        return all;
    }
}
