package org.jhyve.devices.virtio;

import org.jhyve.hv.Doorbell;
import org.jhyve.memory.GuestMemory;

/**
 * What an activated device gets from its transport: the negotiated features, the queues the driver enabled
 * (null for the others), the doorbell each queue's notifications ring, and ways to interrupt the driver or
 * give up on a queue the driver broke.
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
     * The driver broke the rules: the device sets DEVICE_NEEDS_RESET, tells the driver, and logs
     * {@code reason} once. The caller stops using its queues.
     */
    void fail(String reason);
}
