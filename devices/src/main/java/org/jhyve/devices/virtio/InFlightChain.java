package org.jhyve.devices.virtio;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A chain a {@link QueueWorker} has taken off the available ring and handed to its {@link
 * QueueWorker.AsyncHandler}, until the handler says it is done: one of the worker's fixed slots (there are as
 * many as the queue has entries, which bounds the chains in flight), reused for chain after chain.
 *
 * <p>Threading rule. The worker thread fills a slot and starts it; then exactly one {@link #complete} or
 * {@link #fail} comes, from any thread (an I/O thread, or the worker itself inside {@code start}), after
 * everything the request wrote into guest memory: it hands the slot back to the worker, which alone puts the
 * chain on the used ring. That hand-over (a CAS onto the worker's completion stack) orders the request's
 * guest-memory writes before the worker's release of the used index. A second completion is a device bug and
 * throws.
 */
final class InFlightChain {
    private static final int FREE = 0, STARTED = 1, DONE = 2;

    private final QueueWorker worker;
    /** The slot's number, 0 to the queue size - 1: handlers index per-slot state of their own with it. */
    final int slot;
    /** Worker thread only: the chain's head, for the used ring. */
    int head;
    /** Written before the hand-over, read by the worker after it. */
    int written;
    RuntimeException fault;
    /** The worker's completion stack (written before the CAS that pushes this slot), and its free list. */
    InFlightChain next;
    private final AtomicInteger state = new AtomicInteger(FREE);

    InFlightChain(QueueWorker worker, int slot) {
        this.worker = worker;
        this.slot = slot;
    }

    /** Worker thread: the slot now carries the chain at {@code head}. */
    void start(int head) {
        this.head = head;
        this.written = 0;
        this.fault = null;
        state.set(STARTED);
    }

    /** Any thread: the request is done, with {@code written} bytes written into the chain's writable buffers. */
    void complete(int written) {
        claim();
        this.written = written;
        worker.completed(this);
    }

    /** Any thread: the request ended in a device-model fault; the worker fails the queue with it. */
    void fail(RuntimeException fault) {
        claim();
        this.fault = fault;
        worker.completed(this);
    }

    /**
     * Worker thread, when starting failed: takes the slot back unless the request completed after all; returns
     * whether it did (false: it is on the completion stack, and comes back that way).
     */
    boolean abandon() {
        return state.compareAndSet(STARTED, FREE);
    }

    /** Worker thread: the slot is back and may carry another chain. */
    void release() {
        state.set(FREE);
    }

    private void claim() {
        if (!state.compareAndSet(STARTED, DONE)) throw new IllegalStateException("chain " + head + " completed twice, or never started");
    }
}
