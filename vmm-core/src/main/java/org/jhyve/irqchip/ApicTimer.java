package org.jhyve.irqchip;

import java.util.function.LongConsumer;

/**
 * The local APIC timer's counting: one-shot and periodic countdowns of the initial count at the APIC bus
 * frequency over the divide configuration, and the TSC-deadline timer, each armed on a {@link PlatformClock}.
 *
 * <p>Time is kept exactly: a countdown remembers where it started ({@code baseNanos}) and its next expiry as a
 * whole number of bus ticks from there, so periodic deadlines lie on one grid (the k-th at start + k periods,
 * rounded up to the next nanosecond) and never drift, however the bus frequency divides a second.
 *
 * <p>Whether an expiry raises an interrupt (the LVT's mask and vector) is the owner's business: this class says
 * only that the timer expired. Threading rules: none of its own; every method is called with the owning
 * {@link LocalApic}'s lock held, the expiry action included (it arrives on the clock's thread with a generation
 * number, and {@link #expire} ignores a stale one, so a timer cancelled or re-armed while its action was already
 * on its way has no effect).
 */
final class ApicTimer {
    /**
     * The APIC bus (timer input) frequency: 2^27 Hz, xhyve's and bhyve's "128 MHz" ({@code 128 * 1024 * 1024}). A
     * guest sees the same rate under jhyve as under those, and the 32-bit count spans 32 s at divide 1 (1 GHz
     * would give 4 s). Report it to the guest as the core crystal clock (CPUID 0x15) if that leaf is offered.
     */
    static final long BUS_HZ = 1L << 27;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /**
     * The shortest periodic period that is scheduled (KVM clamps at 200 µs): a guest programming a period of a
     * few bus ticks would otherwise keep the platform's timer thread busy for ever.
     */
    static final long MIN_PERIODIC_TICKS = BUS_HZ / 20_000; // 50 µs
    /** A TSC deadline further than this in the future is kept but never scheduled (it would not come anyway). */
    private static final long MAX_TSC_DELAY_SECONDS = 1_000_000_000L;

    enum Mode {
        ONE_SHOT, PERIODIC, TSC_DEADLINE;

        /** The mode of an LVT timer entry (bits 17-18); the reserved encoding 11b counts as one-shot. */
        static Mode ofLvt(int lvt) {
            return switch ((lvt >>> 17) & 3) {
                case 1 -> PERIODIC;
                case 2 -> TSC_DEADLINE;
                default -> ONE_SHOT;
            };
        }
    }

    private final PlatformClock clock;
    private final LongConsumer expiry;

    private int divideConfig;
    private int initialCount;
    private long tscDeadline;

    private boolean armed;
    private Mode armedMode = Mode.ONE_SHOT;
    private int armedDivisor = 2;
    private long baseNanos;
    private long nextTicks;
    private long gridTicks;
    private PlatformClock.Timer handle;
    private long generation;

    /** @param expiry what the clock's thread runs at an expiry, with the generation to hand to {@link #expire} */
    ApicTimer(PlatformClock clock, LongConsumer expiry) {
        this.clock = clock;
        this.expiry = expiry;
    }

    /** The divisor of a divide configuration register value (bits 0, 1 and 3: 2, 4, ... 128, then 1). */
    static int divisor(int divideConfig) {
        int code = (divideConfig & 3) | ((divideConfig >>> 1) & 4);
        return code == 7 ? 1 : 2 << code;
    }

    int divideConfig() {
        return divideConfig;
    }

    /** A new divisor takes effect at the next write of the initial count (as in xhyve); a running countdown keeps its own. */
    void setDivideConfig(int value) {
        divideConfig = value & 0xb;
    }

    int initialCount() {
        return initialCount;
    }

    /** Starts a countdown of {@code count} (unsigned); 0 stops the timer. */
    void startCountdown(int count, Mode mode) {
        stop();
        initialCount = count;
        if (count == 0 || mode == Mode.TSC_DEADLINE) return;
        armedMode = mode;
        armedDivisor = divisor(divideConfig);
        long periodTicks = Integer.toUnsignedLong(count) * armedDivisor;
        gridTicks = mode == Mode.PERIODIC ? Math.max(periodTicks, MIN_PERIODIC_TICKS) : periodTicks;
        baseNanos = clock.nanoTime();
        nextTicks = gridTicks;
        armed = true;
        schedule(baseNanos + ticksToNanosCeil(nextTicks));
    }

    /** The current count register: what is left of this period (0 once a one-shot has run out, and in TSC mode). */
    int currentCount() {
        if (!armed || armedMode == Mode.TSC_DEADLINE) return 0;
        long remaining = nextTicks - nanosToTicksFloor(clock.nanoTime() - baseNanos);
        if (remaining <= 0) {
            // The expiry is due but its action has not run yet: a one-shot reads 0, a periodic count has reloaded.
            if (armedMode != Mode.PERIODIC) return 0;
            remaining = gridTicks - Math.floorMod(-remaining, gridTicks);
        }
        long count = Math.ceilDiv(remaining, armedDivisor);
        return (int) Math.min(count, Integer.toUnsignedLong(initialCount));
    }

    /** Arms the TSC-deadline timer at guest TSC {@code deadline}; 0 disarms. */
    void armTscDeadline(long deadline, long tscNow, long tscHz) {
        stop();
        tscDeadline = deadline;
        if (deadline == 0) return;
        armedMode = Mode.TSC_DEADLINE;
        armed = true;
        long now = clock.nanoTime();
        if (Long.compareUnsigned(deadline, tscNow) <= 0 || tscHz <= 0) {
            schedule(now);
            return;
        }
        long delta = deadline - tscNow;
        if (Long.divideUnsigned(delta, tscHz) > MAX_TSC_DELAY_SECONDS) return;
        long seconds = Long.divideUnsigned(delta, tscHz);
        long rest = Long.remainderUnsigned(delta, tscHz);
        long restNanos = tscHz <= Long.MAX_VALUE / NANOS_PER_SECOND
                ? Math.ceilDiv(rest * NANOS_PER_SECOND, tscHz)
                : (long) Math.ceil(rest * (double) NANOS_PER_SECOND / tscHz);
        schedule(now + seconds * NANOS_PER_SECOND + restNanos);
    }

    /** The IA32_TSC_DEADLINE value: the armed deadline, or 0 once it has fired or was disarmed. */
    long tscDeadline() {
        return tscDeadline;
    }

    /**
     * The clock's action with {@code generation} ran: true if that is a real expiry (then a periodic countdown is
     * already re-armed on its grid), false if the timer was stopped or re-armed since.
     */
    boolean expire(long generation) {
        if (!armed || generation != this.generation) return false;
        switch (armedMode) {
            case PERIODIC -> {
                long nowTicks = nanosToTicksFloor(clock.nanoTime() - baseNanos);
                nextTicks += gridTicks;
                // A clock thread that fell behind skips the periods it missed (the IRR bit holds only one) and
                // stays on the grid.
                if (nextTicks <= nowTicks) nextTicks += ((nowTicks - nextTicks) / gridTicks + 1) * gridTicks;
                rebase();
                schedule(baseNanos + ticksToNanosCeil(nextTicks));
            }
            case TSC_DEADLINE -> {
                armed = false;
                tscDeadline = 0;
            }
            case ONE_SHOT -> armed = false;
        }
        return true;
    }

    /** Cancels what is armed; the registers (initial count, divide, deadline) stay. */
    void stop() {
        if (handle != null) handle.cancel();
        handle = null;
        armed = false;
        generation++;
    }

    /** Stops and clears the counts, as a change of timer mode and a reset do. */
    void clear() {
        stop();
        initialCount = 0;
        tscDeadline = 0;
    }

    private void schedule(long deadlineNanos) {
        long g = ++generation;
        handle = clock.schedule(deadlineNanos, () -> expiry.accept(g));
    }

    /** Moves the base on by whole seconds (a second is exactly BUS_HZ ticks) so the tick counts stay small. */
    private void rebase() {
        long periodStart = nextTicks - gridTicks;
        if (periodStart < BUS_HZ) return;
        long seconds = periodStart / BUS_HZ;
        baseNanos += seconds * NANOS_PER_SECOND;
        nextTicks -= seconds * BUS_HZ;
    }

    static long nanosToTicksFloor(long nanos) {
        if (nanos <= 0) return 0;
        return nanos / NANOS_PER_SECOND * BUS_HZ + nanos % NANOS_PER_SECOND * BUS_HZ / NANOS_PER_SECOND;
    }

    static long ticksToNanosCeil(long ticks) {
        return ticks / BUS_HZ * NANOS_PER_SECOND + Math.ceilDiv(ticks % BUS_HZ * NANOS_PER_SECOND, BUS_HZ);
    }
}
