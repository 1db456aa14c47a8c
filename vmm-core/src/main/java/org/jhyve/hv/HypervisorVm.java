package org.jhyve.hv;

import java.util.List;
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

    @Override
    void close();
}
