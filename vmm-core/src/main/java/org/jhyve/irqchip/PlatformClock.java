package org.jhyve.irqchip;

/**
 * Time for the platform's timers (PIT, local APIC timer, RTC): a monotonic clock in nanoseconds, and one-shot
 * actions at a deadline on it. The host's is {@link HostPlatformClock}; tests drive a manual one.
 *
 * <p>Threading rules: any method from any thread. Scheduled actions run on the clock's own thread (never on the
 * caller's, even when the deadline has passed), one at a time, in deadline order; an action must not block, and
 * an action that throws is logged and dropped without stopping the clock.
 */
public interface PlatformClock {
    /** Monotonic nanoseconds, as {@link System#nanoTime()}: only differences mean anything. */
    long nanoTime();

    /** Runs {@code action} once when {@link #nanoTime()} has reached {@code deadlineNanos}. */
    Timer schedule(long deadlineNanos, Runnable action);

    /** A scheduled action. */
    interface Timer {
        /** Makes sure the action does not run if it has not started yet; idempotent, any thread. */
        void cancel();
    }
}
