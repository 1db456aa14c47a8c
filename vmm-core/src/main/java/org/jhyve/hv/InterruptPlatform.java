package org.jhyve.hv;

/**
 * Who emulates the interrupt controllers and timers (local APICs, IOAPIC, PICs, PIT) of a VM.
 *
 * <p>{@link #IN_KERNEL}: the hypervisor does (KVM's KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2): interrupts are
 * raised with {@link HypervisorVm#setIrqLine} and {@link HypervisorVm#signalMsi}, HLT and IPIs never reach
 * userspace. {@link #USERSPACE}: jhyve does ({@code org.jhyve.irqchip}), as it must on Hypervisor.framework,
 * which has none: the vCPU then offers {@link Vcpu#interruptInjection()}, HLT exits as {@link VmExit.Halt},
 * and the APIC's MSRs as {@link VmExit.Msr}.
 */
public enum InterruptPlatform {
    IN_KERNEL, USERSPACE
}
