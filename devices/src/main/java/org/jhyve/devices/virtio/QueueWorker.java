package org.jhyve.devices.virtio;

import org.jhyve.memory.GuestMemoryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one request/response queue on its own platform thread, off the vCPU threads: waits for the queue's
 * doorbell, takes every available chain, hands each to the device's {@link Handler}, returns it on the used
 * ring, and interrupts the driver once per batch when it asks for it. Notifications are suppressed while the
 * worker is busy anyway.
 */
public final class QueueWorker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueWorker.class);

    /** Serves one chain; returns how many bytes it wrote into the chain's writable buffers. */
    @FunctionalInterface
    public interface Handler {
        int handle(DescriptorChain chain) throws VirtqueueException;
    }

    private final VirtioQueues queues;
    private final int index;
    private final Handler handler;
    private final Thread thread;

    private QueueWorker(String name, VirtioQueues queues, int index, Handler handler) {
        this.queues = queues;
        this.index = index;
        this.handler = handler;
        this.thread = Thread.ofPlatform().name(name).daemon().unstarted(this::run);
    }

    /** Starts serving queue {@code index} (which the driver enabled) on a thread named {@code name}. */
    public static QueueWorker start(String name, VirtioQueues queues, int index, Handler handler) {
        QueueWorker w = new QueueWorker(name, queues, index, handler);
        w.thread.start();
        return w;
    }

    private void run() {
        SplitQueue queue = queues.queue(index);
        try {
            do {
                do {
                    queue.disableNotifications();
                    DescriptorChain chain;
                    while ((chain = queue.pop()) != null) {
                        queue.addUsed(chain.head(), handler.handle(chain));
                    }
                } while (queue.enableNotifications());
                if (queue.needsInterrupt()) queues.interrupt(index);
            } while (queues.doorbell(index).await());
        } catch (VirtqueueException | GuestMemoryException e) {
            queues.fail("queue " + index + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // A device bug must not take the VMM down: contain it to this device.
            log.error("{}: queue {} worker failed", thread.getName(), index, e);
            queues.fail("queue " + index + ": device error " + e);
        }
    }

    /** Waits for the worker to finish the chain in hand and stop; the doorbell must be closed first. */
    @Override
    public void close() {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
