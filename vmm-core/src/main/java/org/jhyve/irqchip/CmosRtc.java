package org.jhyve.irqchip;

import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.irq.IrqLine;

/**
 * The MC146818 real-time clock and its 128 bytes of CMOS at ports 0x70 (index; bit 7 masks NMIs) and 0x71 (data).
 * The time (registers 0-9 and the century at 0x32) is the host's UTC wall clock at construction plus the
 * {@link PlatformClock} time elapsed since; the guest may set it (registers written with SET, or one at a time),
 * which keeps an offset from then on. Registers read in BCD or binary and 12 or 24 hours as register B says.
 *
 * <p>Interrupts: the periodic one at register A's rate, the update-ended one each second, the alarm one when
 * hours, minutes and seconds match (an alarm byte of 0xC0-0xFF matches any value). Their flags in register C are
 * set whether enabled or not; IRQF is set while an enabled one is, and the IRQ line ({@code irq}, ISA IRQ 8)
 * follows IRQF as a level: it rises when an enabled flag is set and falls when the guest reads register C, which
 * clears the flags. Edge-triggered inputs (the PIC's, the IOAPIC's) see one edge per interrupt, and a guest that
 * never reads C gets no further interrupts, as on the chip. A timer runs only while an interrupt is enabled and can
 * still raise the line (PIE with a rate; UIE or AIE with the clock running); otherwise the flags are brought up to
 * date when register C is read.
 *
 * <p>Not modelled: register A's divider bits are kept but the clock always runs on 32.768 kHz; daylight saving
 * (DSE) and the square-wave output (SQWE) are kept bits only; the day of week is computed from the date, a value
 * written to it is not kept; a time written that is no valid date is ignored.
 *
 * <p>Threading rules: from any thread at once; one lock guards everything. {@code irq} is driven with that lock
 * held (from a vCPU's port access or the clock's thread), so it must not call back into this RTC from another
 * thread and wait; the PICs and the IOAPIC it reaches take their own locks after this one.
 */
public final class CmosRtc implements BytePorts {
    public static final int INDEX_PORT = 0x70;
    static final int REG_A = 0x0A;
    static final int REG_B = 0x0B;
    static final int REG_C = 0x0C;
    static final int REG_D = 0x0D;

    static final int A_UIP = 0x80;
    static final int B_SET = 0x80;
    static final int B_PIE = 0x40;
    static final int B_AIE = 0x20;
    static final int B_UIE = 0x10;
    static final int C_IRQF = 0x80;
    static final int C_PF = 0x40;
    static final int C_AF = 0x20;
    static final int C_UF = 0x10;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** UIP is set this long before each update, as the datasheet's 244 µs. */
    private static final long UPDATE_WARNING_NANOS = 244_000;
    /** Seconds whose alarm match is checked when catching up; a longer gap is checked over its last day only. */
    private static final long MAX_ALARM_CATCH_UP_SECONDS = 86_400;
    private static final int[] ALARMS = {0x01, 0x03, 0x05};

    private final PlatformClock clock;
    private final IrqLine irq;
    private final ReentrantLock lock = new ReentrantLock();
    /** CMOS RAM; the time registers here hold what the guest wrote while SET is set. */
    private final byte[] cmos = new byte[128];
    private final long periodicOrigin;

    private int index;
    private boolean nmiMasked;
    private int registerA = 0x26; // 32.768 kHz, 1024 Hz: what firmware leaves
    private int registerB = 0x02; // 24 hours, BCD
    private int flags;
    private boolean irqHigh;

    /** Guest time (epoch nanoseconds) at {@link #baseMonotonic}. */
    private long baseGuestNanos;
    private long baseMonotonic;
    private long lastSecond;
    private long lastPeriodicTick;

    private PlatformClock.Timer timer;
    private long generation;

    /** An RTC showing {@code wallClock} (the host's time now, UTC) at the clock's present instant. */
    public CmosRtc(PlatformClock clock, Instant wallClock, IrqLine irq) {
        this.clock = clock;
        this.irq = irq;
        long now = clock.nanoTime();
        this.periodicOrigin = now;
        this.baseMonotonic = now;
        this.baseGuestNanos = Math.addExact(Math.multiplyExact(wallClock.getEpochSecond(), NANOS_PER_SECOND), wallClock.getNano());
        this.lastSecond = Math.floorDiv(baseGuestNanos, NANOS_PER_SECOND);
        this.lastPeriodicTick = periodicTick(now);
    }

    public CmosRtc(PlatformClock clock, IrqLine irq) {
        this(clock, Instant.now(), irq);
    }

    /** Whether the guest's last index write masked NMIs (bit 7 of port 0x70). */
    public boolean nmiMasked() {
        lock.lock();
        try {
            return nmiMasked;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sets a CMOS RAM byte for the firmware's sake (memory sizes at 0x15-0x18, 0x30-0x31, 0x34-0x35, 0x5B-0x5D);
     * the clock's registers (0-0x0D, 0x32) are not RAM and are left alone.
     */
    public void setRamByte(int cmosIndex, int value) {
        if (cmosIndex < 0x0E || cmosIndex >= cmos.length || cmosIndex == RtcTimeFormat.CENTURY) return;
        lock.lock();
        try {
            cmos[cmosIndex] = (byte) value;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int registerCount() {
        return 2;
    }

    @Override
    public int readByte(int offset) {
        if (offset == 0) return 0xFF; // the index register is write-only
        lock.lock();
        try {
            return readRegister(index);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void writeByte(int offset, int value) {
        lock.lock();
        try {
            if (offset == 0) {
                index = value & 0x7F;
                nmiMasked = (value & 0x80) != 0;
            } else {
                writeRegister(index, value & 0xFF);
            }
        } finally {
            lock.unlock();
        }
    }

    private int readRegister(int register) {
        long now = clock.nanoTime();
        return switch (register) {
            case REG_A -> registerA | (updateSoon(now) ? A_UIP : 0);
            case REG_B -> registerB;
            case REG_C -> {
                catchUp(now);
                int value = flags | (irqFlag() ? C_IRQF : 0);
                flags = 0;
                driveIrq();
                reschedule(now);
                yield value;
            }
            case REG_D -> 0x80; // valid RAM and time: the battery is fine
            default -> {
                if (isTimeRegister(register) && !setting()) {
                    byte[] shown = new byte[cmos.length];
                    format().encode(Math.floorDiv(guestNanos(now), NANOS_PER_SECOND), shown);
                    yield shown[register] & 0xFF;
                }
                yield cmos[register] & 0xFF;
            }
        };
    }

    private void writeRegister(int register, int value) {
        long now = clock.nanoTime();
        catchUp(now);
        switch (register) {
            case REG_A -> registerA = value & 0x7F;
            case REG_B -> writeRegisterB(value, now);
            case REG_C, REG_D -> { } // read-only
            default -> {
                if (isTimeRegister(register) && !setting()) {
                    byte[] shown = new byte[cmos.length];
                    format().encode(Math.floorDiv(guestNanos(now), NANOS_PER_SECOND), shown);
                    shown[register] = (byte) value;
                    long nanosIntoSecond = Math.floorMod(guestNanos(now), NANOS_PER_SECOND);
                    format().decode(shown).ifPresent(second -> setTime(second, nanosIntoSecond, now));
                } else {
                    cmos[register] = (byte) value;
                }
            }
        }
        lastPeriodicTick = periodicTick(now); // a new rate starts counting from here
        driveIrq();
        reschedule(now);
    }

    private void writeRegisterB(int value, long now) {
        boolean wasSetting = setting();
        registerB = value;
        if (setting()) {
            registerB &= ~B_UIE; // SET clears UIE, as on the chip
            if (!wasSetting) format().encode(Math.floorDiv(guestNanos(now), NANOS_PER_SECOND), cmos);
        } else if (wasSetting) {
            OptionalLong second = format().decode(cmos);
            // A guest that wrote no valid date keeps the old time, which went on counting meanwhile.
            second.ifPresent(s -> setTime(s, 0, now));
        }
    }

    /** The clock shows {@code epochSecond} plus {@code nanosIntoSecond} now, and counts on from there. */
    private void setTime(long epochSecond, long nanosIntoSecond, long now) {
        baseGuestNanos = epochSecond * NANOS_PER_SECOND + nanosIntoSecond;
        baseMonotonic = now;
        lastSecond = epochSecond;
    }

    private long guestNanos(long now) {
        return baseGuestNanos + (now - baseMonotonic);
    }

    /** Sets the flags of what happened since the last look. Called with the lock held. */
    private void catchUp(long now) {
        assert lock.isHeldByCurrentThread();
        if (periodicRate() != 0) {
            long tick = periodicTick(now);
            if (tick > lastPeriodicTick) flags |= C_PF;
            lastPeriodicTick = tick;
        }
        if (setting()) return;
        long second = Math.floorDiv(guestNanos(now), NANOS_PER_SECOND);
        if (second > lastSecond) {
            flags |= C_UF;
            for (long s = Math.max(lastSecond + 1, second - MAX_ALARM_CATCH_UP_SECONDS + 1); s <= second; s++) {
                if (alarmMatches(s)) {
                    flags |= C_AF;
                    break;
                }
            }
        }
        lastSecond = second;
    }

    private boolean alarmMatches(long epochSecond) {
        long secondOfDay = Math.floorMod(epochSecond, 86_400L);
        int[] now = {(int) (secondOfDay % 60), (int) (secondOfDay / 60 % 60), (int) (secondOfDay / 3600)};
        RtcTimeFormat format = format();
        for (int i = 0; i < 3; i++) {
            int alarm = cmos[ALARMS[i]] & 0xFF;
            int shown = i == 2 ? format.hour(now[i]) : format.number(now[i]);
            if ((alarm & 0xC0) != 0xC0 && alarm != shown) return false;
        }
        return true;
    }

    private boolean irqFlag() {
        return (flags & registerB & (C_PF | C_AF | C_UF)) != 0;
    }

    private void driveIrq() {
        boolean level = irqFlag();
        if (level == irqHigh) return;
        irqHigh = level;
        irq.set(level);
    }

    /**
     * Schedules the next moment an enabled interrupt can set its flag, or nothing: with the line already high no
     * new flag can make another edge before register C is read (which reschedules).
     */
    private void reschedule(long now) {
        if (timer != null) timer.cancel();
        timer = null;
        generation++;
        if (irqHigh) return;
        long deadline = Long.MAX_VALUE;
        if ((registerB & B_PIE) != 0 && periodicRate() != 0) {
            deadline = periodicDeadline(periodicTick(now) + 1);
        }
        if ((registerB & (B_UIE | B_AIE)) != 0 && !setting()) {
            long nextSecond = Math.floorDiv(guestNanos(now), NANOS_PER_SECOND) + 1;
            deadline = Math.min(deadline, baseMonotonic + (nextSecond * NANOS_PER_SECOND - baseGuestNanos));
        }
        if (deadline == Long.MAX_VALUE) return;
        long expected = generation;
        timer = clock.schedule(deadline, () -> expire(expected));
    }

    private void expire(long expected) {
        lock.lock();
        try {
            if (expected != generation) return;
            long now = clock.nanoTime();
            catchUp(now);
            driveIrq();
            reschedule(now);
        } finally {
            lock.unlock();
        }
    }

    private boolean updateSoon(long now) {
        return !setting() && Math.floorMod(guestNanos(now), NANOS_PER_SECOND) >= NANOS_PER_SECOND - UPDATE_WARNING_NANOS;
    }

    private boolean setting() {
        return (registerB & B_SET) != 0;
    }

    private RtcTimeFormat format() {
        return RtcTimeFormat.of(registerB);
    }

    private int periodicRate() {
        return registerA & 0x0F;
    }

    /** The periodic interrupt's period in 32.768 kHz cycles: rates 1 and 2 are the 256 and 128 Hz of 8 and 9. */
    private int periodCycles() {
        int rate = periodicRate();
        return rate <= 2 ? 1 << (rate + 6) : 1 << (rate - 1);
    }

    /** How many periodic intervals have passed since construction at {@code now} (0 when the rate is 0). */
    private long periodicTick(long now) {
        if (periodicRate() == 0) return 0;
        long d = now - periodicOrigin;
        long perSecond = 32_768 / periodCycles();
        return Math.floorDiv(d, NANOS_PER_SECOND) * perSecond
                + Math.floorMod(d, NANOS_PER_SECOND) * 32_768 / NANOS_PER_SECOND / periodCycles();
    }

    private long periodicDeadline(long tick) {
        long perSecond = 32_768 / periodCycles();
        long cycles = Math.floorMod(tick, perSecond) * periodCycles();
        return periodicOrigin + Math.floorDiv(tick, perSecond) * NANOS_PER_SECOND + (cycles * NANOS_PER_SECOND + 32_767) / 32_768;
    }

    private static boolean isTimeRegister(int register) {
        return switch (register) {
            case RtcTimeFormat.SECONDS, RtcTimeFormat.MINUTES, RtcTimeFormat.HOURS, RtcTimeFormat.DAY_OF_WEEK,
                 RtcTimeFormat.DAY_OF_MONTH, RtcTimeFormat.MONTH, RtcTimeFormat.YEAR, RtcTimeFormat.CENTURY -> true;
            default -> false;
        };
    }
}
