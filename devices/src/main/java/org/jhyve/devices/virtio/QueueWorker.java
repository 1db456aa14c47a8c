package org.jhyve.devices.virtio;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.jhyve.hv.Doorbell;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.memory.GuestMemoryException;
import org.jhyve.memory.MappingHold;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one request/response queue on its own platform thread, off the vCPU threads: waits for the queue's
 * doorbell, takes every available chain and starts each on the device's handler without waiting for it, and
 * returns chains on the used ring as they complete, in whatever order, interrupting the driver once per batch
 * when it asks for it. A synchronous {@link Handler} completes each chain before the next is taken (virtio-net);
 * an {@link AsyncHandler} lets many of one queue's requests run at once (virtio-blk: a guest keeping 32 reads
 * in flight gets them overlapped in the host). At most one chain per queue entry is in flight: the worker has
 * that many {@link InFlightChain} slots and takes no chain while all are in use. Notifications are suppressed
 * while the worker is busy anyway.
 *
 * <p>Threading rules. {@link #start} and {@link #close} are called by the device (on a vCPU thread, during a
 * reset or activation under the transport's lock, or on the thread closing the VM). The worker's own thread is
 * the only one that uses the {@link SplitQueue} (it pops, puts on the used ring, decides on interrupts): a
 * request completing on another thread only pushes its slot onto the worker's completion stack (lock-free) and
 * wakes the worker if it sleeps, by ringing the queue's doorbell (which then serves two purposes: the guest's
 * kick and a completion) or, once the worker is draining after a close, by unparking it. What the guest can
 * provoke does not end the thread early: an interrupt the platform refuses (an MSI to no vCPU) is counted and
 * logged, rate-limited, and the queue is served on. A queue the driver broke (a bad chain, a ring outside RAM)
 * and a device-model bug (also one reported by a request completing elsewhere) end the worker after telling
 * the transport ({@link VirtioQueues#fail}: DEVICE_NEEDS_RESET), since the virtio way out is the driver's reset,
 * which starts new workers.
 *
 * <p>Lifetime. The worker tells the transport when it starts and when it has stopped touching guest memory and
 * the queue for good ({@link VirtioQueues#workerStarted}, {@link VirtioQueues#workerStopped}); between the two it
 * holds guest RAM's mapping ({@link org.jhyve.memory.GuestMemory#hold}), because a request may be inside a
 * backend's preadv on raw guest addresses. So a worker that stops (closed, or its queue failed) first waits for
 * every request still in flight, however long it takes, and only then lets the mapping go. {@link #close} waits a
 * bounded time: a request stuck in a backend that never returns does not hang the resetting vCPU. Once closed the
 * worker takes no new chain, and a chain that completes after the close is not put on the used ring and
 * interrupts nobody: after a reset the queue belongs to the driver again.
 */
public final class QueueWorker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueWorker.class);

    /**
     * How long {@link #close()} waits for the chains in flight. Long enough for any healthy request to finish
     * (a reset normally finds the worker waiting for its doorbell, and ends it in microseconds), short enough
     * that a vCPU resetting a device whose backend hangs gets on.
     */
    public static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

    /** Serves one chain; returns how many bytes it wrote into the chain's writable buffers. */
    @FunctionalInterface
    public interface Handler {
        int handle(DescriptorChain chain) throws VirtqueueException;
    }

    /**
     * Serves chains that complete later, possibly on another thread and in any order.
     *
     * <p>Threading: both methods are called on the worker's thread only. The request's {@link
     * InFlightChain#complete} or {@link InFlightChain#fail} may come from any thread, once.
     */
    interface AsyncHandler {
        /**
         * Whether {@code chain} may start only once every chain started before it has completed (a flush that
         * must follow the writes before it). The worker then holds it, and takes no other chain meanwhile.
         */
        default boolean waitsForEarlier(DescriptorChain chain) {
            return false;
        }

        /**
         * Starts serving {@code chain}; {@code request} is completed exactly once, possibly before this returns.
         * {@code alone} says nothing else is in flight nor queued behind it: the guest is most likely waiting for
         * this one request (queue depth 1), and serving it here, on the worker's thread, saves the two thread
         * hand-overs (to an I/O thread and back) that would double its latency. An exception means the request
         * was not started (nothing was handed on, nothing completes it): the worker takes its slot back and fails
         * the queue.
         */
        void start(DescriptorChain chain, InFlightChain request, boolean alone) throws VirtqueueException;

        /**
         * Brackets the chains the worker takes in one go: what {@link #start} hands on between the two may wait
         * until {@link #batchEnd}, so that the host gets them together (one system call for the batch).
         */
        default void batchBegin() {}

        default void batchEnd() {}
    }

    /** Where the worker is when it is not running: how a completion on another thread wakes it. */
    private static final int AWAKE = 0, ON_DOORBELL = 1, PARKED = 2;

    private final VirtioQueues queues;
    private final int index;
    private final AsyncHandler handler;
    private final GuestErrorLog errors;
    private final MappingHold ramHold;
    private final Thread thread;
    /** Set by {@link #close}: take no new chain, complete none. */
    private volatile boolean stopping;
    /** Completed slots not yet taken by the worker, newest first (linked through {@link InFlightChain#next}). */
    private final AtomicReference<InFlightChain> completedStack = new AtomicReference<>();
    /** {@link #AWAKE}, or how the worker waits: set by the worker before its last look, reset by whoever wakes it. */
    private final AtomicInteger sleep = new AtomicInteger(AWAKE);

    // The worker thread's own.
    /** The most chains in flight: one per queue entry, as many as a driver can have outstanding. */
    private int slotLimit;
    private int slotsMade;
    private InFlightChain freeSlots;
    private int inFlight;
    /** A chain waiting for those before it ({@link AsyncHandler#waitsForEarlier}), or null. */
    private DescriptorChain held;

    private QueueWorker(String name, VirtioQueues queues, int index, AsyncHandler handler, GuestErrorLog errors) {
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
        return start(name, queues, index, (AsyncHandler) (chain, request, alone) -> request.complete(handler.handle(chain)), errors);
    }

    /** As above, for a handler whose chains complete later: several are in flight at once. */
    static QueueWorker start(String name, VirtioQueues queues, int index, AsyncHandler handler, GuestErrorLog errors) {
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
            try {
                serve();
            } finally {
                drain();
            }
        } catch (Error e) {
            failQueue("queue " + index + ": worker ended by " + e);
            throw e;
        } finally {
            queues.workerStopped();
        }
    }

    private void serve() {
        SplitQueue queue = queues.queue(index);
        slotLimit = queue.layout().size();
        Doorbell doorbell = queues.doorbell(index);
        try {
            while (!stopping) {
                queue.disableNotifications();
                boolean published;
                handler.batchBegin();
                try {
                    published = takeChains(queue);
                } finally {
                    handler.batchEnd();
                }
                published |= publishCompleted(queue);
                if (stopping) return;
                if (published && queue.needsInterrupt()) interrupt();
                // Announce the sleep before the last look, so that a completion pushed after the look sees it
                // and rings (both sides use sequentially consistent atomics: one of them sees the other).
                sleep.set(ON_DOORBELL);
                if (completedStack.get() != null || startableHeld() || (mayPop() && queue.enableNotifications())) {
                    sleep.set(AWAKE);
                    continue;
                }
                if (!doorbell.await()) return;
                sleep.set(AWAKE);
            }
        } catch (VirtqueueException | GuestMemoryException e) {
            failQueue("queue " + index + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // A device bug must not take the VMM down: contain it to this device.
            errors.fault("queue " + index + ": device error", e);
            failQueue("queue " + index + ": device error " + e);
        } finally {
            sleep.set(AWAKE);
        }
    }

    /** Takes and starts chains while there is a free slot; returns whether any completion was published. */
    private boolean takeChains(SplitQueue queue) throws VirtqueueException {
        boolean published = false;
        while (!stopping) {
            DescriptorChain chain;
            if (held != null) {
                if (inFlight > 0) break;
                chain = held;
                held = null;
            } else {
                if (!hasFreeSlot() || (chain = queue.pop()) == null) break;
                if (inFlight > 0 && handler.waitsForEarlier(chain)) {
                    held = chain;
                    continue;
                }
            }
            startChain(queue, chain);
            // A synchronous handler has completed it already: on the used ring now, as before the next chain.
            published |= publishCompleted(queue);
        }
        return published;
    }

    private void startChain(SplitQueue queue, DescriptorChain chain) throws VirtqueueException {
        boolean alone = inFlight == 0 && !queue.hasAvailable();
        InFlightChain request = takeSlot();
        request.start(chain.head());
        inFlight++;
        try {
            handler.start(chain, request, alone);
        } catch (VirtqueueException | RuntimeException e) {
            if (request.abandon()) giveBack(request);
            throw e;
        }
    }

    /**
     * Takes every completed slot back; puts their chains on the used ring unless the worker is stopping. Every
     * slot is accounted for before a fault is thrown (the first one: a request's own, or the used ring's), so that
     * a stopping worker still knows what is in flight.
     */
    private boolean publishCompleted(SplitQueue queue) {
        InFlightChain list = takeCompleted();
        boolean published = false;
        RuntimeException fault = null;
        for (InFlightChain c = list, next; c != null; c = next) {
            next = c.next;
            int head = c.head, written = c.written;
            RuntimeException failed = c.fault;
            giveBack(c);
            if (failed != null) {
                if (fault == null) fault = failed;
            } else if (!stopping && fault == null) {
                try {
                    queue.addUsed(head, written);
                    published = true;
                } catch (RuntimeException e) {
                    fault = e;
                }
            }
        }
        if (fault != null) throw fault;
        return published;
    }

    /** The completion stack, emptied, oldest first (as the requests finished, for the used ring's order). */
    private InFlightChain takeCompleted() {
        InFlightChain newest = completedStack.getAndSet(null), oldest = null;
        while (newest != null) {
            InFlightChain next = newest.next;
            newest.next = oldest;
            oldest = newest;
            newest = next;
        }
        return oldest;
    }

    /**
     * After serving: every request still in flight may write guest memory, so the worker (and with it the hold on
     * guest RAM) stays until each has completed; none goes on the used ring.
     */
    private void drain() {
        held = null; // never started: nothing to wait for
        boolean interrupted = Thread.interrupted(); // park returns at once on an interrupted thread
        while (inFlight > 0) {
            sleep.set(PARKED);
            if (completedStack.get() == null) LockSupport.park(this);
            sleep.set(AWAKE);
            for (InFlightChain c = takeCompleted(), next; c != null; c = next) {
                next = c.next;
                giveBack(c);
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Any thread: {@code request} is done; the worker takes it from here. */
    void completed(InFlightChain request) {
        InFlightChain top;
        do {
            top = completedStack.get();
            request.next = top;
        } while (!completedStack.compareAndSet(top, request));
        int was = sleep.get();
        if (was == AWAKE || !sleep.compareAndSet(was, AWAKE)) return; // awake, or someone else woke it
        if (was == ON_DOORBELL) queues.doorbell(index).ring();
        else LockSupport.unpark(thread);
    }

    private boolean hasFreeSlot() {
        return freeSlots != null || slotsMade < slotLimit;
    }

    /** Whether a new chain may be taken now (else the worker waits for completions, not for the guest). */
    private boolean mayPop() {
        return held == null && hasFreeSlot();
    }

    private boolean startableHeld() {
        return held != null && inFlight == 0;
    }

    /** A free slot (made when first needed: most queues never have more than a few chains in flight). */
    private InFlightChain takeSlot() {
        InFlightChain s = freeSlots;
        if (s != null) {
            freeSlots = s.next;
            s.next = null;
            return s;
        }
        return new InFlightChain(this, slotsMade++);
    }

    private void giveBack(InFlightChain request) {
        inFlight--;
        request.release();
        request.next = freeSlots;
        freeSlots = request;
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
     * Stops the worker: it takes no new chain, and waits up to {@code wait} for the chains in flight; returns whether
     * the worker ended. The doorbell must be closed first (a worker waiting for it otherwise waits on). One that has
     * not ended waits for a request (a backend call that does not return): it ends by itself when the last returns,
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
