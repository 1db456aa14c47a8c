package org.jhyve.irqchip;

/**
 * The APIC bus: takes a message and hands it to every local APIC it addresses (physical or logical destination,
 * shorthands, lowest priority choosing one), and carries EOIs of level-triggered vectors back to the IOAPIC.
 *
 * <p>Threading rules: any method from any thread at once (vCPU threads sending IPIs, device threads raising
 * lines, the timer thread); it never blocks on a vCPU. A message no local APIC accepts is dropped (counted by the
 * implementation), as on a real bus.
 */
public interface InterruptRouter {
    void deliver(ApicMessage message);

    /**
     * A local APIC took an EOI for {@code vector}, which it had accepted as level-triggered: the IOAPIC clears the
     * remote IRR of the pins with that vector (and redelivers those still asserted).
     */
    void endOfInterrupt(int vector);
}
