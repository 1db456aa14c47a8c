package org.jhyve.devices.virtio;

import org.jhyve.hv.Doorbell;
import org.jhyve.memory.GuestMemory;

/**
 * What an activated device gets from its transport: the negotiated features, the queues the driver enabled
 * (null for the others), the doorbell each queue's notifications ring, and ways to interrupt the driver or
 * give up on a queue the driver broke.
 *
 * <p>Threading rules. One instance serves one activation (DRIVER_OK to the next reset). The device's worker
 * threads call every method concurrently with each other and with the vCPU threads that drive the transport,
 * so implementations are thread-safe and never block on the transport's register lock: a reset holds that
 * lock while it waits (bounded) for the workers. A queue is served by one worker at a time.
 */
public interface VirtioQueues {
    GuestMemory memory();

    /** The features both sides agreed on. */
    long features();

    default boolean negotiated(int bit) { return (features() & 1L << bit) != 0; }

    int count();

    /** Queue {@code index}, or null when the driver did not enable it. */
    SplitQueue queue(int index);

    /** Rings when the driver notifies queue {@code index}; closed when the device is reset. */
    Doorbell doorbell(int index);

    /** Tells the driver queue {@code index} has new used entries (MSI-X vector or INTx, as configured). */
    void interrupt(int index);

    /**
     * The device configuration changed under the driver (virtio-net's link status): the transport moves
     * config_generation and sends the configuration-change interrupt. Callable from any thread.
     */
    default void configChanged() {}

    /**
     * The driver broke the rules: the device sets DEVICE_NEEDS_RESET, tells the driver, and logs
     * {@code reason} once. The caller stops using its queues.
     */
    void fail(String reason);

    /**
     * A worker thread that serves these queues was started (called on the thread starting it, before it runs).
     * With {@link #workerStopped} it lets the transport know whether any of the device's threads may still touch
     * guest memory and the queues: a device reset is complete (device_status reads 0 again, virtio 1.2, 2.4.1)
     * only once every worker has stopped, which for one stuck in a backend may be long after the reset returned.
     * The default ignores it.
     */
    default void workerStarted() {}

    /** A worker started with {@link #workerStarted} will touch neither guest memory nor the queues again. */
    default void workerStopped() {}
}
