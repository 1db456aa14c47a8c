package org.jhyve.irqchip;

/**
 * A device's view of the platform clock that reports its timers: "timer-armed pit in=838ns", "timer-fired pit".
 * The device never knows; with tracing and JFR off it adds one branch per schedule and per firing.
 *
 * <p>Threading rules: as {@link PlatformClock}.
 */
final class TracedClock implements PlatformClock {
    private final PlatformClock clock;
    private final String timer;
    private final PlatformEvents events;

    TracedClock(PlatformClock clock, String timer, PlatformEvents events) {
        this.clock = clock;
        this.timer = timer;
        this.events = events;
    }

    @Override
    public long nanoTime() {
        return clock.nanoTime();
    }

    @Override
    public Timer schedule(long deadlineNanos, Runnable action) {
        if (!events.enabled()) return clock.schedule(deadlineNanos, action);
        events.timerArmed(timer, deadlineNanos - clock.nanoTime());
        return clock.schedule(deadlineNanos, () -> {
            events.timerFired(timer);
            action.run();
        });
    }
}
