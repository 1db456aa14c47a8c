package org.jhyve.irqchip;

/**
 * The 8254's 1.193182 MHz input clock as ticks counted from an origin on the {@link PlatformClock}: both
 * directions of the conversion exact (no 64-bit overflow for centuries of uptime), so periodic deadlines are
 * computed from absolute tick numbers and never drift.
 *
 * <p>Threading rules: immutable.
 */
record PitClock(long originNanos) {
    static final long HZ = 1_193_182;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    /** The tick that has begun at {@code nanos} (floor). */
    long tickAt(long nanos) {
        long d = nanos - originNanos;
        return Math.floorDiv(d, NANOS_PER_SECOND) * HZ + Math.floorMod(d, NANOS_PER_SECOND) * HZ / NANOS_PER_SECOND;
    }

    /** The first instant at which tick {@code tick} has begun (ceiling), so {@code tickAt(nanosOf(t)) == t}. */
    long nanosOf(long tick) {
        long q = Math.floorDiv(tick, HZ);
        long r = Math.floorMod(tick, HZ);
        return originNanos + q * NANOS_PER_SECOND + (r * NANOS_PER_SECOND + HZ - 1) / HZ;
    }
}
