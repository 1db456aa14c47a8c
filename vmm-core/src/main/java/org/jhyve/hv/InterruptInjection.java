package org.jhyve.hv;

/**
 * How a VMM that emulates the interrupt controllers itself ({@link InterruptPlatform#USERSPACE}) hands a vCPU its
 * interrupts: KVM_INTERRUPT, KVM_NMI, the interrupt window and CR8 of {@code kvm_run} on KVM.
 *
 * <p>Threading rules: the vCPU's own thread only, between two {@link Vcpu#run()}s. The state it reports
 * ({@link #canInjectInterrupt()}, {@link #cr8()}) is what the last exit said.
 */
public interface InterruptInjection {
    /** Whether the vCPU accepts an external interrupt on the next entry: RFLAGS.IF set, no STI/MOV SS shadow. */
    boolean canInjectInterrupt();

    /** Injects external interrupt {@code vector} on the next entry; only when {@link #canInjectInterrupt()}. */
    void injectInterrupt(int vector);

    /** Asks for an exit ({@link VmExit.InterruptWindow}) as soon as the guest can take an interrupt, or stops asking. */
    void requestInterruptWindow(boolean request);

    /** Queues a non-maskable interrupt. */
    void injectNmi();

    /** CR8 (the task priority, TPR[7:4]) as the guest left it at the last exit. */
    int cr8();

    /** Sets CR8 for the next entry (after the VMM's local APIC changed its TPR). */
    void setCr8(int value);

    /** The guest TSC's frequency in Hz, for the TSC-deadline timer. */
    long tscHz();

    /** The guest's TSC now. */
    long guestTsc();
}
