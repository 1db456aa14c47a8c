package org.jhyve.hv;

/** A hypervisor backend (KVM, Hypervisor.framework): the service that creates VMs. */
public interface Hypervisor extends AutoCloseable {
    /** A short name for messages, e.g. "kvm". */
    String name();

    HypervisorVm createVm(VmSpec spec);

    /**
     * False where the hypervisor emulates guest kernel code instead of running it on the CPU (KVM on a host
     * without VMX/SVM, its PVM flavour): guests there need the {@code pvm} CPU template
     * ({@code org.jhyve.cpu.CpuTemplate#forHost}). True unless a backend says otherwise.
     */
    default boolean hasHardwareVirtualization() {
        return true;
    }

    @Override
    void close();
}
