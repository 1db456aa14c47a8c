package org.jhyve.irqchip;

/**
 * The local APIC's register offsets in its xAPIC MMIO page (SDM vol. 3 table 11-1), the bits the emulation
 * interprets, and the x2APIC MSR that each offset maps to ({@code 0x800 + offset / 16}, SDM table 11-6).
 */
final class ApicRegisters {
    static final int ID = 0x020;
    static final int VERSION = 0x030;
    static final int TPR = 0x080;
    static final int APR = 0x090;
    static final int PPR = 0x0a0;
    static final int EOI = 0x0b0;
    static final int RRD = 0x0c0;
    static final int LDR = 0x0d0;
    static final int DFR = 0x0e0;
    static final int SVR = 0x0f0;
    static final int ISR0 = 0x100;
    static final int TMR0 = 0x180;
    static final int IRR0 = 0x200;
    static final int ESR = 0x280;
    static final int LVT_CMCI = 0x2f0;
    static final int ICR_LOW = 0x300;
    static final int ICR_HIGH = 0x310;
    static final int LVT_TIMER = 0x320;
    static final int LVT_THERMAL = 0x330;
    static final int LVT_PERF = 0x340;
    static final int LVT_LINT0 = 0x350;
    static final int LVT_LINT1 = 0x360;
    static final int LVT_ERROR = 0x370;
    static final int TIMER_INITIAL_COUNT = 0x380;
    static final int TIMER_CURRENT_COUNT = 0x390;
    static final int TIMER_DIVIDE = 0x3e0;
    /** x2APIC only (MSR 0x83F). */
    static final int SELF_IPI = 0x3f0;

    static final int X2APIC_MSR_FIRST = 0x800;
    static final int X2APIC_MSR_LAST = 0x8ff;
    static final int MSR_APIC_BASE = 0x1b;
    static final int MSR_TSC_DEADLINE = 0x6e0;

    /** Version 0x14 (an integrated APIC, as the Pentium 4 and later), highest LVT entry index 6 (CMCI). No
     * EOI-broadcast suppression (bit 24 clear): the IOAPIC it pairs with has no EOI register to take directed EOIs. */
    static final int VERSION_VALUE = 0x14 | (6 << 16);

    static final int SVR_ENABLE = 1 << 8;
    /** Vector, software enable, focus-processor checking; bit 12 (EOI-broadcast suppression) is not offered. */
    static final int SVR_WRITABLE = 0x3ff;

    static final int LVT_MASKED = 1 << 16;
    static final int LVT_VECTOR = 0xff;
    static final int LVT_DELIVERY_MODE = 0x700;
    static final int LVT_POLARITY = 1 << 13;
    static final int LVT_LEVEL_TRIGGERED = 1 << 15;
    static final int LVT_TIMER_MODE = 3 << 17;

    static final int DFR_MODEL_FLAT = 0xf;
    static final int DFR_MODEL_CLUSTER = 0x0;

    /** ESR bits (SDM 11.5.3). */
    static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
    static final int ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
    static final int ESR_ILLEGAL_REGISTER = 1 << 7;

    /** ICR low bits a write keeps: vector, delivery mode, destination mode, level, trigger, shorthand. */
    static final int ICR_LOW_WRITABLE = 0xff | 0x700 | (1 << 11) | (1 << 14) | (1 << 15) | (3 << 18);

    static final long APIC_BASE_BSP = 1L << 8;
    static final long APIC_BASE_X2APIC = 1L << 10;
    static final long APIC_BASE_ENABLE = 1L << 11;
    /** Bits 12-51 hold the page's physical address (the architectural maximum MAXPHYADDR). */
    static final long APIC_BASE_ADDRESS = 0x000f_ffff_ffff_f000L;
    static final long APIC_BASE_DEFAULT_ADDRESS = 0xfee0_0000L;

    private ApicRegisters() {
    }
}
