package org.jhyve.irqchip;

/** An interrupt message's delivery mode (the 3-bit field of an ICR, an IOAPIC redirection entry or MSI data). */
public enum DeliveryMode {
    FIXED, LOWEST_PRIORITY, SMI, RESERVED_3, NMI, INIT, STARTUP, EXTINT;

    /** The mode whose encoding is the low 3 bits of {@code bits}. */
    public static DeliveryMode of(int bits) {
        return values()[bits & 7];
    }

    public int bits() {
        return ordinal();
    }
}
