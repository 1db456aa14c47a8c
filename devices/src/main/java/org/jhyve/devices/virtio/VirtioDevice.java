package org.jhyve.devices.virtio;

/**
 * What a virtio device type knows (virtio-blk, virtio-net...): its features, queues and configuration space,
 * and how it serves its queues once the driver is ready. It knows nothing of PCI; {@link VirtioPciTransport}
 * puts it on the bus.
 */
public interface VirtioDevice extends AutoCloseable {
    /** virtio device ID (5.x of the spec): 1 network, 2 block... */
    int deviceType();

    /** PCI class code (base class, subclass, programming interface) for the transport's header. */
    int pciClassCode();

    /** Device-specific feature bits offered (the transport adds VERSION_1, INDIRECT_DESC and EVENT_IDX). */
    long deviceFeatures();

    int queueCount();

    /** The largest queue size offered for every queue (a power of two). */
    int maxQueueSize();

    /** Bytes of device-specific configuration space. */
    int configSize();

    /** Reads {@code size} bytes of configuration space at {@code offset} (range already checked). */
    long configRead(int offset, int size);

    /** Writes configuration space; most of it is read-only, so the default ignores writes. */
    default void configWrite(int offset, int size, long value) {}

    /** The driver set DRIVER_OK: start serving the queues. Called at most once until {@link #reset()}. */
    void activate(VirtioQueues queues);

    /**
     * The driver reset the device, or the VM is closing: finish requests in flight and stop touching guest
     * memory and the queues before returning.
     */
    void reset();

    /** Releases backends (files, sockets). The transport calls {@link #reset()} first. */
    @Override
    default void close() {}
}
