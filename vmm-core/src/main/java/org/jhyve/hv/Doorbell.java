package org.jhyve.hv;

/**
 * A guest notification a device waits for on its own thread: a virtio queue kick, for example. The guest
 * rings it by writing to an MMIO address: through an exit and {@link #ring()}, or, once the hypervisor has
 * bound the address to it ({@link HypervisorVm#bindDoorbell}), inside the kernel with no exit at all.
 * Rings that arrive while nobody waits are remembered (collapsed into one).
 */
public interface Doorbell extends AutoCloseable {
    /** Rings from the VMM side: the exit path of an unbound doorbell, or a device poking its own worker. */
    void ring();

    /**
     * Blocks until the doorbell has rung since the last call returned, then returns true; returns false once
     * the doorbell is closed (also when it is closed while waiting).
     */
    boolean await() throws InterruptedException;

    /** Wakes any waiter for good. Idempotent. */
    @Override
    void close();
}
