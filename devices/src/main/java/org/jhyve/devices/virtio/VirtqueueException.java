package org.jhyve.devices.virtio;

/**
 * The driver broke the virtqueue rules (a descriptor outside guest RAM, a loop, an index past the queue size,
 * an available index that jumped): the device must stop using the queue and ask for a reset. The message
 * names the guest address involved.
 */
public final class VirtqueueException extends Exception {
    public VirtqueueException(String message) {
        super(message);
    }
}
