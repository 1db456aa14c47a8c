package org.jhyve.hv;

/** A hypervisor backend (KVM, Hypervisor.framework): the service that creates VMs. */
public interface Hypervisor extends AutoCloseable {
    /** A short name for messages, e.g. "kvm". */
    String name();

    HypervisorVm createVm(VmSpec spec);

    @Override
    void close();
}
