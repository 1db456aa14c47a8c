package org.jhyve.irq;

/**
 * Delivers message-signalled interrupts: the write of {@code data} to {@code address} that a PCI device's
 * MSI or MSI-X logic would put on the bus, turned into an interrupt by the platform (KVM_SIGNAL_MSI on KVM).
 *
 * <p>Threading rules: callable from any thread (vCPU threads writing MSI-X tables, device workers completing
 * requests), concurrently, without a lock of the caller's held against other callers. It does not block.
 *
 * <p>Failures: the guest chose the address and data, so a message no CPU accepts is the guest's mistake and is
 * dropped by the platform (KVM counts it, see {@code KvmVm.misroutedMsis}), as a bus drops a write nobody
 * claims; it does not throw. It throws only for host-side failures (the VM already closed, a broken hypervisor
 * fd). Callers on device threads contain even those: an interrupt that cannot be delivered costs that interrupt,
 * never the thread.
 */
@FunctionalInterface
public interface MsiSink {
    void signal(long address, int data);
}
