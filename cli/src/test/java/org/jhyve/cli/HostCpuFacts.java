package org.jhyve.cli;

import org.jhyve.kvm.HostCpu;

/** Whether this host runs guest kernel code natively (VMX/SVM) or emulates it (KVM's PVM flavour). */
final class HostCpuFacts {
    private HostCpuFacts() {}

    static boolean hardwareVirtualization() {
        return HostCpu.read().hasHardwareVirtualization();
    }
}
