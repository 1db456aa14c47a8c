package org.jhyve.irqchip;

import static org.jhyve.irqchip.ApicRegisters.*;

import java.util.OptionalLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One vCPU's local APIC (SDM vol. 3 ch. 11; xhyve's {@code vlapic.c} does the same in C): the xAPIC MMIO page and
 * the x2APIC MSRs, IA32_APIC_BASE and IA32_TSC_DEADLINE, interrupt acceptance (IRR, ISR, TMR, TPR/PPR), EOI, the
 * timer, IPIs and the error register, and what its vCPU asks between two runs ({@link #pendingVector},
 * {@link #accept}, {@link #takeNmi}, {@link #extIntPending}).
 *
 * <p>Model: version 0x14, LVT entries up to CMCI (index 6), no EOI-broadcast suppression, no focus processor
 * (the SVR bit is kept but lowest-priority arbitration ignores it). The timer counts at
 * {@link #BUS_FREQUENCY_HZ}. The BSP's LINT0 leaves reset unmasked in ExtINT mode (virtual wire, as a BIOS
 * programs it and as KVM resets it), so the PIC reaches the BSP before the guest sets up its APIC.
 *
 * <p>Threading rules: any method from any thread. The vCPU's thread makes the MMIO, MSR, pending, accept and TPR
 * calls; device threads and other vCPUs call {@link #deliver} (through the {@link ApicBus}); the clock's thread
 * runs the timer. One lock guards all state and is held only for register work: the listener, the router and the
 * TSC source are called without it (the listener's {@code interruptPending} may well call straight back into
 * {@link #pendingVector}, and an IPI reaches other APICs, or this one, through the router). A guest value never
 * throws: bad accesses get the hardware's answer (0, ignored, an ESR bit, or #GP through the MSR methods' result).
 */
public final class LocalApic {
    /** The APIC timer's input clock: 2^27 Hz (xhyve's "128 MHz"); see {@link ApicTimer#BUS_HZ}. */
    public static final long BUS_FREQUENCY_HZ = ApicTimer.BUS_HZ;
    /** The xAPIC page's guest-physical address after reset. */
    public static final long DEFAULT_MMIO_BASE = APIC_BASE_DEFAULT_ADDRESS;
    public static final int MMIO_SIZE = 0x1000;

    private static final int LVT_COUNT = 7;
    private static final int LVT_INDEX_CMCI = 0, LVT_INDEX_TIMER = 1, LVT_INDEX_THERMAL = 2, LVT_INDEX_PERF = 3,
            LVT_INDEX_LINT0 = 4, LVT_INDEX_LINT1 = 5, LVT_INDEX_ERROR = 6;
    /** What {@code readRegister} answers for an offset that is no register in the current mode (#GP for an MSR). */
    private static final long NO_REGISTER = Long.MIN_VALUE;

    private final int apicId;
    private final boolean bsp;
    private final InterruptRouter router;
    private final LocalApicListener listener;
    private final TscSource tsc;
    private final ReentrantLock lock = new ReentrantLock();
    private final ApicTimer timer;

    // All below guarded by lock.
    private long baseAddress = APIC_BASE_DEFAULT_ADDRESS;
    private boolean hardwareEnabled = true;
    private boolean x2apic;
    private int tpr;
    private int ldr;
    private int dfr;
    private int svr;
    private int esr;
    private int esrPending;
    private final VectorSet irr = new VectorSet();
    private final VectorSet isr = new VectorSet();
    private final VectorSet tmr = new VectorSet();
    private final int[] lvt = new int[LVT_COUNT];
    private int icrLow;
    private int icrHigh;
    private boolean nmiPending;
    private boolean extIntLatched;
    private boolean lint0Level;
    private boolean lint1Level;
    private boolean waitingForSipi;

    // What the current locked operation leaves to do once the lock is released (see unlockAndFlush).
    private boolean wakeRequested;
    private boolean initRequested;
    private int startupVector = -1;
    private int eoiBroadcastVector = -1;
    private ApicMessage outgoing;

    /**
     * @param apicId   this APIC's ID (the vCPU's index as the MADT lists it); 8 bits in xAPIC mode
     * @param bsp      whether it is the bootstrap processor's (IA32_APIC_BASE bit 8)
     * @param router   the APIC bus IPIs and level-triggered EOIs go to
     * @param listener its vCPU
     * @param tsc      the guest TSC, for IA32_TSC_DEADLINE
     */
    public LocalApic(int apicId, boolean bsp, PlatformClock clock, InterruptRouter router, LocalApicListener listener,
                     TscSource tsc) {
        if (apicId < 0) throw new IllegalArgumentException("APIC ID " + apicId);
        this.apicId = apicId;
        this.bsp = bsp;
        this.router = router;
        this.listener = listener;
        this.tsc = tsc;
        this.timer = new ApicTimer(clock, this::timerExpired);
        resetRegisters();
    }

    public int apicId() {
        return apicId;
    }

    /** Whether the guest has switched this APIC to x2APIC mode (then the MMIO page reads 0 and ignores writes). */
    public boolean x2apicMode() {
        lock.lock();
        try {
            return x2apic;
        } finally {
            lock.unlock();
        }
    }

    /** Whether IA32_APIC_BASE's global enable (bit 11) is set; when clear the APIC takes no bus messages. */
    public boolean hardwareEnabled() {
        lock.lock();
        try {
            return hardwareEnabled;
        } finally {
            lock.unlock();
        }
    }

    /** The MSRs {@link #readMsr} and {@link #writeMsr} answer: IA32_APIC_BASE, IA32_TSC_DEADLINE, 0x800-0x8FF. */
    public static boolean handlesMsr(int index) {
        return index == MSR_APIC_BASE || index == MSR_TSC_DEADLINE || (index >= X2APIC_MSR_FIRST && index <= X2APIC_MSR_LAST);
    }

    // ---- the xAPIC page --------------------------------------------------------------------------------------

    /**
     * A guest read at {@code offset} in the APIC page: the register's value for a 4-byte access at a 16-byte
     * boundary, 0 for anything else, and 0 while the APIC is disabled or in x2APIC mode.
     */
    public long readMmio(long offset, int size) {
        lock.lock();
        try {
            if (!hardwareEnabled || x2apic || !isRegisterAccess(offset, size)) return 0;
            long value = readRegister((int) offset);
            if (value == NO_REGISTER) {
                raiseError(ESR_ILLEGAL_REGISTER);
                return 0;
            }
            return value & 0xffff_ffffL;
        } finally {
            unlockAndFlush();
        }
    }

    /** A guest write in the APIC page; ignored unless a 4-byte access at a 16-byte boundary in xAPIC mode. */
    public void writeMmio(long offset, int size, long value) {
        lock.lock();
        try {
            if (!hardwareEnabled || x2apic || !isRegisterAccess(offset, size)) return;
            if (!writeRegister((int) offset, value & 0xffff_ffffL)) raiseError(ESR_ILLEGAL_REGISTER);
        } finally {
            unlockAndFlush();
        }
    }

    private static boolean isRegisterAccess(long offset, int size) {
        return size == 4 && offset >= 0 && offset < MMIO_SIZE && (offset & 0xf) == 0;
    }

    // ---- MSRs ------------------------------------------------------------------------------------------------

    /** RDMSR of {@code index}: the value, or empty when the CPU raises #GP (see {@link #handlesMsr}). */
    public OptionalLong readMsr(int index) {
        lock.lock();
        try {
            if (index == MSR_APIC_BASE) return OptionalLong.of(apicBaseLocked());
            if (index == MSR_TSC_DEADLINE) {
                boolean deadlineMode = hardwareEnabled && timerMode() == ApicTimer.Mode.TSC_DEADLINE;
                return OptionalLong.of(deadlineMode ? timer.tscDeadline() : 0);
            }
            if (index < X2APIC_MSR_FIRST || index > X2APIC_MSR_LAST || !x2apic) return OptionalLong.empty();
            int offset = (index - X2APIC_MSR_FIRST) << 4;
            // Write-only in x2APIC mode: a read faults.
            if (offset == EOI || offset == SELF_IPI) return OptionalLong.empty();
            long value = readRegister(offset);
            return value == NO_REGISTER ? OptionalLong.empty() : OptionalLong.of(value);
        } finally {
            unlockAndFlush();
        }
    }

    /** WRMSR of {@code index}: false when the CPU raises #GP (reserved MSR or bits, read-only, not x2APIC mode). */
    public boolean writeMsr(int index, long value) {
        if (index == MSR_TSC_DEADLINE) return writeTscDeadline(value);
        lock.lock();
        try {
            if (index == MSR_APIC_BASE) return writeApicBase(value);
            if (index < X2APIC_MSR_FIRST || index > X2APIC_MSR_LAST || !x2apic) return false;
            int offset = (index - X2APIC_MSR_FIRST) << 4;
            if (offset == ICR_LOW) {
                icrHigh = (int) (value >>> 32);
                icrLow = (int) value & ICR_LOW_WRITABLE;
                sendIpi();
                return true;
            }
            if ((value >>> 32) != 0) return false;
            return switch (offset) {
                // Read-only registers and those only xAPIC mode has fault on a write.
                case ID, VERSION, PPR, LDR, TIMER_CURRENT_COUNT, APR, RRD, DFR, ICR_HIGH -> false;
                case TPR -> value <= 0xff && writeRegister(offset, value);
                case EOI, ESR -> value == 0 && writeRegister(offset, value);
                case SELF_IPI -> {
                    if (value > 0xff) yield false;
                    selfIpi((int) value);
                    yield true;
                }
                default -> (offset < ISR0 || offset >= ESR) && writeRegister(offset, value);
            };
        } finally {
            unlockAndFlush();
        }
    }

    private long apicBaseLocked() {
        return baseAddress | (bsp ? APIC_BASE_BSP : 0) | (hardwareEnabled ? APIC_BASE_ENABLE : 0)
                | (x2apic ? APIC_BASE_X2APIC : 0);
    }

    /** SDM 11.12.5: disabled, xAPIC and x2APIC, and only the transitions between them the SDM allows. */
    private boolean writeApicBase(long value) {
        long reserved = ~(APIC_BASE_ADDRESS | APIC_BASE_BSP | APIC_BASE_X2APIC | APIC_BASE_ENABLE);
        if ((value & reserved) != 0) return false;
        boolean enable = (value & APIC_BASE_ENABLE) != 0;
        boolean extended = (value & APIC_BASE_X2APIC) != 0;
        if (extended && !enable) return false;                      // the invalid state
        if (x2apic && enable && !extended) return false;            // x2APIC -> xAPIC only through disabled
        if (!hardwareEnabled && extended) return false;             // disabled -> x2APIC only through xAPIC
        baseAddress = value & APIC_BASE_ADDRESS;                     // the BSP bit is the CPU's, not the guest's
        if (!enable) {
            if (hardwareEnabled) {
                // All state is lost; the APIC comes back as after reset.
                hardwareEnabled = false;
                x2apic = false;
                resetRegisters();
                wakeRequested = true; // LINT0 and LINT1 are now the CPU's INTR and NMI pins
            }
            return true;
        }
        hardwareEnabled = true;
        if (extended && !x2apic) {
            x2apic = true;
            ldr = x2apicLogicalId();
            dfr = 0xffff_ffff;
        }
        return true;
    }

    private boolean writeTscDeadline(long value) {
        long tscNow = tsc.now();
        long tscHz = tsc.hz();
        lock.lock();
        try {
            // Outside TSC-deadline mode the write is ignored (SDM 11.5.4.1), not a fault.
            if (hardwareEnabled && timerMode() == ApicTimer.Mode.TSC_DEADLINE) timer.armTscDeadline(value, tscNow, tscHz);
            return true;
        } finally {
            unlockAndFlush();
        }
    }

    // ---- registers -------------------------------------------------------------------------------------------

    private long readRegister(int offset) {
        if (offset >= ISR0 && offset < ISR0 + 0x80) return Integer.toUnsignedLong(isr.word((offset - ISR0) >> 4));
        if (offset >= TMR0 && offset < TMR0 + 0x80) return Integer.toUnsignedLong(tmr.word((offset - TMR0) >> 4));
        if (offset >= IRR0 && offset < IRR0 + 0x80) return Integer.toUnsignedLong(irr.word((offset - IRR0) >> 4));
        if (offset == ICR_LOW && x2apic) return (Integer.toUnsignedLong(icrHigh) << 32) | Integer.toUnsignedLong(icrLow);
        long value = switch (offset) {
            case ID -> x2apic ? apicId : (apicId & 0xff) << 24;
            case VERSION -> VERSION_VALUE;
            case TPR -> tpr;
            case APR -> x2apic ? NO_REGISTER : arbitrationPriorityLocked();
            case PPR -> processorPriority();
            case EOI -> 0;
            case RRD -> x2apic ? NO_REGISTER : 0;
            case LDR -> ldr;
            case DFR -> x2apic ? NO_REGISTER : dfr;
            case SVR -> svr;
            case ESR -> esr;
            case LVT_CMCI -> lvt[LVT_INDEX_CMCI];
            // Delivery status (bit 12) always reads idle: an IPI is delivered before the write returns.
            case ICR_LOW -> icrLow;
            case ICR_HIGH -> x2apic ? NO_REGISTER : icrHigh;
            case LVT_TIMER -> lvt[LVT_INDEX_TIMER];
            case LVT_THERMAL -> lvt[LVT_INDEX_THERMAL];
            case LVT_PERF -> lvt[LVT_INDEX_PERF];
            case LVT_LINT0 -> lvt[LVT_INDEX_LINT0];
            case LVT_LINT1 -> lvt[LVT_INDEX_LINT1];
            case LVT_ERROR -> lvt[LVT_INDEX_ERROR];
            case TIMER_INITIAL_COUNT -> timer.initialCount();
            case TIMER_CURRENT_COUNT -> timer.currentCount();
            case TIMER_DIVIDE -> timer.divideConfig();
            default -> NO_REGISTER;
        };
        return value == NO_REGISTER ? NO_REGISTER : value & 0xffff_ffffL;
    }

    /** Writes a 32-bit register (both modes; the x2APIC-only checks are the caller's); false for no register. */
    private boolean writeRegister(int offset, long longValue) {
        int value = (int) longValue;
        switch (offset) {
            case ID, VERSION, APR, PPR, RRD, TIMER_CURRENT_COUNT -> { } // read-only: xhyve keeps the ID fixed too
            case TPR -> setTprLocked(value & 0xff);
            case EOI -> endOfInterrupt();
            case LDR -> {
                if (!x2apic) ldr = value & 0xff00_0000;
            }
            case DFR -> {
                if (!x2apic) dfr = value | 0x0fff_ffff;
            }
            case SVR -> writeSvr(value);
            case ESR -> {
                // A write latches the errors seen since the last one and starts collecting anew (SDM 11.5.3).
                esr = esrPending;
                esrPending = 0;
            }
            case LVT_CMCI -> writeLvt(LVT_INDEX_CMCI, value, LVT_VECTOR | LVT_DELIVERY_MODE | LVT_MASKED);
            case LVT_TIMER -> writeTimerLvt(value);
            case LVT_THERMAL -> writeLvt(LVT_INDEX_THERMAL, value, LVT_VECTOR | LVT_DELIVERY_MODE | LVT_MASKED);
            case LVT_PERF -> writeLvt(LVT_INDEX_PERF, value, LVT_VECTOR | LVT_DELIVERY_MODE | LVT_MASKED);
            case LVT_LINT0 -> writeLint(LVT_INDEX_LINT0, value);
            case LVT_LINT1 -> writeLint(LVT_INDEX_LINT1, value);
            case LVT_ERROR -> writeLvt(LVT_INDEX_ERROR, value, LVT_VECTOR | LVT_MASKED);
            case ICR_LOW -> {
                icrLow = value & ICR_LOW_WRITABLE;
                sendIpi();
            }
            case ICR_HIGH -> icrHigh = value & 0xff00_0000;
            case TIMER_INITIAL_COUNT -> {
                if (timerMode() != ApicTimer.Mode.TSC_DEADLINE) timer.startCountdown(value, timerMode());
            }
            case TIMER_DIVIDE -> timer.setDivideConfig(value);
            default -> {
                // ISR, TMR and IRR are read-only; everything else is no register.
                return offset >= ISR0 && offset < IRR0 + 0x80;
            }
        }
        return true;
    }

    private void writeSvr(int value) {
        boolean wasEnabled = softwareEnabled();
        svr = value & SVR_WRITABLE;
        if (wasEnabled && !softwareEnabled()) {
            // Software disable masks every LVT entry (SDM 11.4.7.2); the timer goes on counting, masked.
            for (int i = 0; i < LVT_COUNT; i++) lvt[i] |= LVT_MASKED;
        }
    }

    private void writeLvt(int index, int value, int writable) {
        int v = value & writable;
        if (!softwareEnabled()) v |= LVT_MASKED;
        lvt[index] = v;
    }

    private void writeLint(int index, int value) {
        writeLvt(index, value, LVT_VECTOR | LVT_DELIVERY_MODE | LVT_POLARITY | LVT_LEVEL_TRIGGERED | LVT_MASKED);
        wakeRequested = true; // an unmasked ExtINT LINT0 with INTR asserted is now deliverable
    }

    private void writeTimerLvt(int value) {
        ApicTimer.Mode before = timerMode();
        writeLvt(LVT_INDEX_TIMER, value, LVT_VECTOR | LVT_MASKED | LVT_TIMER_MODE);
        // Switching between one-shot, periodic and TSC-deadline disarms the timer (as KVM does).
        if (timerMode() != before) timer.clear();
    }

    private ApicTimer.Mode timerMode() {
        return ApicTimer.Mode.ofLvt(lvt[LVT_INDEX_TIMER]);
    }

    private boolean softwareEnabled() {
        return (svr & SVR_ENABLE) != 0;
    }

    private int x2apicLogicalId() {
        return ((apicId >>> 4) << 16) | (1 << (apicId & 0xf));
    }

    /** The state after RESET or INIT: everything but the ID, the base MSR (enable and x2APIC bits included). */
    private void resetRegisters() {
        timer.clear();
        timer.setDivideConfig(0);
        tpr = 0;
        ldr = x2apic ? x2apicLogicalId() : 0;
        dfr = 0xffff_ffff;
        svr = 0xff;
        esr = 0;
        esrPending = 0;
        irr.clear();
        isr.clear();
        tmr.clear();
        java.util.Arrays.fill(lvt, LVT_MASKED);
        if (bsp) lvt[LVT_INDEX_LINT0] = DeliveryMode.EXTINT.bits() << 8;
        icrLow = 0;
        icrHigh = 0;
        nmiPending = false;
        extIntLatched = false;
    }

    // ---- priorities, acceptance and EOI ------------------------------------------------------------------------

    private int processorPriority() {
        int isrv = Math.max(isr.highest(), 0);
        return (tpr >>> 4) >= (isrv >>> 4) ? tpr : isrv & 0xf0;
    }

    /** SDM 11.6.2.1's arbitration priority (the APR register). */
    private int arbitrationPriorityLocked() {
        int irrv = Math.max(irr.highest(), 0);
        int isrv = Math.max(isr.highest(), 0);
        if ((tpr >>> 4) >= (irrv >>> 4) && (tpr >>> 4) > (isrv >>> 4)) return tpr;
        return Math.max(tpr & 0xf0, Math.max(isrv & 0xf0, irrv & 0xf0));
    }

    /** What the bus compares for lowest-priority delivery: the processor priority (PPR). */
    int lowestPriorityRank() {
        lock.lock();
        try {
            return processorPriority();
        } finally {
            lock.unlock();
        }
    }

    /** Whether a message with {@code destination} (not a broadcast) in the given mode addresses this APIC. */
    boolean isAddressedBy(int destination, boolean logical) {
        lock.lock();
        try {
            if (!hardwareEnabled) return false;
            if (!logical) return x2apic ? destination == apicId : destination == (apicId & 0xff);
            if (x2apic) {
                // x2APIC cluster model: destination[31:16] is the cluster, [15:0] a mask within it.
                return (destination >>> 16) == (ldr >>> 16) && (destination & ldr & 0xffff) != 0;
            }
            int logicalId = ldr >>> 24;
            return switch (dfr >>> 28) {
                case DFR_MODEL_FLAT -> (destination & logicalId & 0xff) != 0;
                case DFR_MODEL_CLUSTER -> ((destination >>> 4) & 0xf) == (logicalId >>> 4)
                        && (destination & logicalId & 0xf) != 0;
                default -> false;
            };
        } finally {
            lock.unlock();
        }
    }

    /**
     * A message the bus routed here. FIXED and LOWEST_PRIORITY set the IRR (and the TMR to the trigger mode),
     * vectors 0-15 being refused with ESR "receive illegal vector"; NMI, INIT, STARTUP (only after an INIT) and
     * ExtINT as their names say; a software-disabled APIC takes only NMI, INIT and STARTUP, a hardware-disabled one
     * nothing. A level de-assert is ignored.
     */
    public void deliver(ApicMessage message) {
        lock.lock();
        try {
            if (!hardwareEnabled || !message.assert_()) return;
            switch (message.mode()) {
                case FIXED, LOWEST_PRIORITY -> {
                    if (softwareEnabled()) acceptFixed(message.vector(), message.levelTriggered());
                }
                case NMI -> {
                    nmiPending = true;
                    wakeRequested = true;
                }
                case INIT -> {
                    resetRegisters();
                    waitingForSipi = true;
                    initRequested = true;
                }
                case STARTUP -> {
                    if (waitingForSipi) {
                        waitingForSipi = false;
                        startupVector = message.vector();
                    }
                }
                case EXTINT -> {
                    if (softwareEnabled()) {
                        extIntLatched = true;
                        wakeRequested = true;
                    }
                }
                case SMI, RESERVED_3 -> { } // no SMM here
            }
        } finally {
            unlockAndFlush();
        }
    }

    private void acceptFixed(int vector, boolean level) {
        if (vector < 16) {
            raiseError(ESR_RECEIVE_ILLEGAL_VECTOR);
            return;
        }
        irr.add(vector);
        tmr.set(vector, level);
        wakeRequested = true;
    }

    /**
     * The vector the vCPU should inject next: the highest in the IRR if its priority class (bits 7:4) is above the
     * PPR's, else -1. The vCPU injects it when the guest can take it (IF set, no interrupt shadow), then calls
     * {@link #accept}.
     */
    public int pendingVector() {
        lock.lock();
        try {
            return pendingVectorLocked();
        } finally {
            lock.unlock();
        }
    }

    private int pendingVectorLocked() {
        int vector = irr.highest();
        return vector >= 0 && (vector >>> 4) > (processorPriority() >>> 4) ? vector : -1;
    }

    /** The vCPU injected {@code vector}: it moves from the IRR to the ISR. Ignored if it is not in the IRR. */
    public void accept(int vector) {
        lock.lock();
        try {
            if (vector < 0 || vector > 255 || !irr.contains(vector)) return;
            irr.remove(vector);
            isr.add(vector);
        } finally {
            lock.unlock();
        }
    }

    /** Takes the pending NMI, if any (NMIs that arrive before it is taken coalesce into one). */
    public boolean takeNmi() {
        lock.lock();
        try {
            boolean pending = nmiPending;
            nmiPending = false;
            return pending;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether the vCPU should run an interrupt-acknowledge cycle on the PIC: INTR asserted on a LINT pin programmed
     * for ExtINT and unmasked (or on LINT0 directly while the APIC is hardware-disabled), or an ExtINT message
     * arrived. The PIC's INTR stays a level: it goes away when the PIC lowers it through {@link #setLint0}.
     */
    public boolean extIntPending() {
        lock.lock();
        try {
            return extIntPendingLocked();
        } finally {
            lock.unlock();
        }
    }

    private boolean extIntPendingLocked() {
        if (!hardwareEnabled) return lint0Level;
        return extIntLatched || (lint0Level && isExtInt(lvt[LVT_INDEX_LINT0])) || (lint1Level && isExtInt(lvt[LVT_INDEX_LINT1]));
    }

    private static boolean isExtInt(int entry) {
        return (entry & LVT_MASKED) == 0 && DeliveryMode.of(entry >>> 8) == DeliveryMode.EXTINT;
    }

    /** The vCPU injected the PIC's vector: an ExtINT message is consumed (a LINT level stays what the PIC says). */
    public void acceptExtInt() {
        lock.lock();
        try {
            extIntLatched = false;
        } finally {
            lock.unlock();
        }
    }

    /** The PIC's INTR output, wired to LINT0, changed to {@code level}. */
    public void setLint0(boolean level) {
        setLint(LVT_INDEX_LINT0, level);
    }

    /** The LINT1 input (NMI on a PC) changed to {@code level}. */
    public void setLint1(boolean level) {
        setLint(LVT_INDEX_LINT1, level);
    }

    private void setLint(int index, boolean level) {
        lock.lock();
        try {
            boolean rising = level && !(index == LVT_INDEX_LINT0 ? lint0Level : lint1Level);
            if (index == LVT_INDEX_LINT0) lint0Level = level; else lint1Level = level;
            if (!hardwareEnabled) {
                // Without an APIC the pins are the CPU's INTR (LINT0, a level) and NMI (LINT1, an edge).
                if (index == LVT_INDEX_LINT1 && rising) nmiPending = true;
                wakeRequested = true;
                return;
            }
            int entry = lvt[index];
            if ((entry & LVT_MASKED) != 0) return;
            switch (DeliveryMode.of(entry >>> 8)) {
                case EXTINT -> wakeRequested = true;
                case NMI -> {
                    if (rising) {
                        nmiPending = true;
                        wakeRequested = true;
                    }
                }
                case FIXED -> {
                    if (rising) acceptFixed(entry & LVT_VECTOR, false);
                }
                default -> { } // SMI, INIT and the reserved modes are not wired
            }
        } finally {
            unlockAndFlush();
        }
    }

    /** The TPR (CR8 is its bits 7:4), for the vCPU to keep CR8 and the TPR in step. */
    public int tpr() {
        lock.lock();
        try {
            return tpr;
        } finally {
            lock.unlock();
        }
    }

    /** Sets the TPR (from CR8: {@code cr8 << 4}); a lower priority may let a waiting interrupt through. */
    public void setTpr(int value) {
        lock.lock();
        try {
            setTprLocked(value & 0xff);
        } finally {
            unlockAndFlush();
        }
    }

    private void setTprLocked(int value) {
        if (value < tpr) wakeRequested = true;
        tpr = value;
    }

    private void endOfInterrupt() {
        int vector = isr.highest();
        if (vector < 0) return; // an EOI with nothing in service does nothing
        isr.remove(vector);
        if (tmr.contains(vector)) eoiBroadcastVector = vector;
        wakeRequested = true;
    }

    // ---- IPIs, the timer, errors ---------------------------------------------------------------------------

    private void sendIpi() {
        int vector = icrLow & 0xff;
        DeliveryMode mode = DeliveryMode.of(icrLow >>> 8);
        if (mode == DeliveryMode.RESERVED_3 || mode == DeliveryMode.EXTINT) return; // reserved in the ICR
        if ((mode == DeliveryMode.FIXED || mode == DeliveryMode.LOWEST_PRIORITY) && vector < 16) {
            raiseError(ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        boolean logical = (icrLow & (1 << 11)) != 0;
        boolean levelTriggered = (icrLow & (1 << 15)) != 0;
        boolean assertLevel = (icrLow & (1 << 14)) != 0;
        // The trigger and level bits mean something only for INIT (a level de-assert, which targets ignore).
        boolean deassert = mode == DeliveryMode.INIT && levelTriggered && !assertLevel;
        ApicMessage.Shorthand shorthand = ApicMessage.Shorthand.values()[(icrLow >>> 18) & 3];
        int destination = x2apic ? icrHigh : icrHigh >>> 24;
        outgoing = new ApicMessage(destination, logical, mode, vector, deassert, !deassert, shorthand, apicId);
    }

    /** The x2APIC SELF IPI register: a fixed, edge-triggered interrupt to this APIC. */
    private void selfIpi(int vector) {
        if (vector < 16) {
            raiseError(ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        if (softwareEnabled()) acceptFixed(vector, false);
    }

    private void timerExpired(long generation) {
        lock.lock();
        try {
            if (!timer.expire(generation)) return;
            int entry = lvt[LVT_INDEX_TIMER];
            if ((entry & LVT_MASKED) != 0) return; // a masked timer counts on but raises nothing
            acceptFixed(entry & LVT_VECTOR, false);
        } finally {
            unlockAndFlush();
        }
    }

    /** Records {@code bits} for the next ESR write to latch, and raises the error LVT's interrupt if unmasked. */
    private void raiseError(int bits) {
        esrPending |= bits;
        int entry = lvt[LVT_INDEX_ERROR];
        int vector = entry & LVT_VECTOR;
        // An error LVT with an illegal vector would report itself for ever: it raises nothing.
        if ((entry & LVT_MASKED) == 0 && vector >= 16) {
            irr.add(vector);
            tmr.remove(vector);
            wakeRequested = true;
        }
    }

    private boolean deliverableLocked() {
        return nmiPending || pendingVectorLocked() >= 0 || extIntPendingLocked();
    }

    /** Releases the lock, then does what the locked work left: INIT, STARTUP, the EOI broadcast, the IPI, the kick. */
    private void unlockAndFlush() {
        boolean init = initRequested;
        int startup = startupVector;
        int eoi = eoiBroadcastVector;
        ApicMessage ipi = outgoing;
        boolean wake = wakeRequested && deliverableLocked();
        initRequested = false;
        startupVector = -1;
        eoiBroadcastVector = -1;
        outgoing = null;
        wakeRequested = false;
        lock.unlock();
        assert !lock.isHeldByCurrentThread() : "LocalApic calls out with its lock held";
        if (init) listener.init();
        if (startup >= 0) listener.startup(startup);
        if (eoi >= 0) router.endOfInterrupt(eoi);
        if (ipi != null) router.deliver(ipi);
        if (wake) listener.interruptPending();
    }

    @Override
    public String toString() {
        return "LocalApic[" + apicId + (bsp ? ", BSP]" : "]");
    }
}
