package org.jhyve.devices.virtio;

/** What the driver wrote into the common configuration for one queue, before the device uses it. */
final class QueueRegisters {
    int size;
    /** Read by worker threads when they interrupt. */
    volatile int msixVector = CommonConfig.NO_VECTOR;
    boolean enabled;
    long desc, driver, device;

    QueueRegisters(int maxSize) {
        this.size = maxSize;
    }

    QueueLayout layout() {
        return new QueueLayout(size, desc, driver, device);
    }
}
