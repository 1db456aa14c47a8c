package org.jhyve.irqchip;

/**
 * The guest's time-stamp counter as its local APIC needs it for the TSC-deadline timer: its rate, and its value
 * now. Read on the vCPU's own thread (the guest writes IA32_TSC_DEADLINE there), where the hypervisor answers.
 */
public interface TscSource {
    /** The guest TSC's frequency in Hz. */
    long hz();

    /** The guest's TSC at this moment. */
    long now();
}
