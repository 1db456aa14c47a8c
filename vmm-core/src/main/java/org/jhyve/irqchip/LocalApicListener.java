package org.jhyve.irqchip;

/**
 * What a local APIC tells its vCPU: called from whichever thread changed the APIC (a device's, the timer's,
 * another vCPU's), so each must return at once: set a flag, kick the vCPU out of its run, wake its halt.
 */
public interface LocalApicListener {
    /** An interrupt (or NMI, or ExtINT) may now be deliverable: look again before the next run. */
    void interruptPending();

    /** An INIT arrived: the vCPU resets and waits for a startup IPI (the BSP too, as on hardware). */
    void init();

    /** A startup IPI with {@code vector}: a vCPU waiting for one starts in real mode at {@code vector << 12}. */
    void startup(int vector);
}
