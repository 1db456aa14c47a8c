package org.jhyve.irqchip;

/**
 * One interrupt message on the APIC bus, as a local APIC's ICR, the IOAPIC or an MSI sends it.
 *
 * @param destination       the destination field: an APIC ID (physical) or a logical mask/cluster (logical); in
 *                          xAPIC mode 8 bits, 0xff broadcast; in x2APIC mode 32 bits, 0xffffffff broadcast
 * @param logical           logical destination mode
 * @param mode              delivery mode
 * @param vector            the vector (FIXED, LOWEST_PRIORITY; the start page for STARTUP)
 * @param levelTriggered    trigger mode: level (the target's TMR bit is set, its EOI is broadcast to the IOAPIC)
 * @param assert_           level: false only for an INIT level de-assert, which targets ignore
 * @param shorthand         the ICR's destination shorthand; NONE for the IOAPIC and MSIs
 * @param sourceApicId      the sender's APIC ID for SELF/ALL_BUT_SELF; -1 when no local APIC sent it
 */
public record ApicMessage(int destination, boolean logical, DeliveryMode mode, int vector, boolean levelTriggered,
                          boolean assert_, Shorthand shorthand, int sourceApicId) {
    public enum Shorthand { NONE, SELF, ALL_INCLUDING_SELF, ALL_BUT_SELF }

    public ApicMessage {
        if (vector < 0 || vector > 255) throw new IllegalArgumentException("vector " + vector);
    }

    /** A message from the IOAPIC or an MSI: no shorthand, no sender. */
    public static ApicMessage fromDevice(int destination, boolean logical, DeliveryMode mode, int vector, boolean levelTriggered) {
        return new ApicMessage(destination, logical, mode, vector, levelTriggered, true, Shorthand.NONE, -1);
    }
}
