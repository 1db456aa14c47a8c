package org.jhyve.firmware;

/** Facts about the boot vCPU that every start mode shares. */
final class BootProcessor {
    /**
     * IA32_APIC_BASE of the bootstrap processor after reset: the local APIC at 0xFEE00000, enabled (bit 11),
     * BSP (bit 8). Special registers carry it, so it must be set: 0 would disable the local APIC.
     */
    static final long APIC_BASE = 0xfee0_0000L | 1L << 11 | 1L << 8;

    private BootProcessor() {}
}
