package org.jhyve.irq;

/**
 * Delivers message-signalled interrupts: the write of {@code data} to {@code address} that a PCI device's
 * MSI or MSI-X logic would put on the bus, turned into an interrupt by the platform (KVM_SIGNAL_MSI on KVM).
 * Callable from any thread.
 */
@FunctionalInterface
public interface MsiSink {
    void signal(long address, int data);
}
