package org.jhyve.hv;

import java.util.List;
import java.util.Optional;
import org.jhyve.memory.GuestMemory;

/**
 * A VM as the hypervisor sees it: guest RAM, vCPUs, and the interrupt controller it provides.
 * Closing it releases guest RAM and every native resource; close vCPUs first.
 */
public interface HypervisorVm extends AutoCloseable {
    /** Guest RAM, laid out by {@link org.jhyve.memory.MemoryLayout}. */
    GuestMemory memory();

    Vcpu createVcpu(int index);

    /** CPUID leaves the hypervisor can present, the starting point for a vCPU's CPUID. */
    List<CpuidEntry> supportedCpuid();

    /** Drives interrupt line {@code gsi} of the in-kernel (or emulated) IOAPIC/PIC. */
    void setIrqLine(int gsi, boolean level);

    /**
     * Delivers a message-signalled interrupt (MSI/MSI-X) as the write of {@code data} to {@code address}. Any
     * thread. A message whose destination no vCPU matches is the guest's mistake: it is dropped, not thrown.
     *
     * @throws UnsupportedOperationException when the hypervisor has no MSI delivery
     */
    default void signalMsi(long address, int data) {
        throw new UnsupportedOperationException("this hypervisor cannot deliver MSIs");
    }

    /** A new doorbell that {@link #bindDoorbell} can bind; a software one unless the hypervisor has better. */
    default Doorbell newDoorbell() {
        return new SoftwareDoorbell();
    }

    /**
     * Makes guest writes of {@code length} bytes (1, 2, 4 or 8) to MMIO address {@code address} ring
     * {@code doorbell} without leaving the hypervisor (KVM_IOEVENTFD). Closing the returned binding undoes it.
     * Empty when the hypervisor cannot (the write then exits as usual and the device rings the doorbell itself).
     */
    default Optional<AutoCloseable> bindDoorbell(Doorbell doorbell, long address, int length) {
        return Optional.empty();
    }

    @Override
    void close();
}
