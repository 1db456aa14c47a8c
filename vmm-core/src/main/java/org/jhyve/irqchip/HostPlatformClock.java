package org.jhyve.irqchip;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's monotonic clock ({@link System#nanoTime()}) and one daemon thread, {@code jhyve-platform-timers},
 * that runs every timer of one VM's platform. Started by the first {@link #schedule}, ended by {@link #close}.
 */
public final class HostPlatformClock implements PlatformClock, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostPlatformClock.class);

    private final ScheduledThreadPoolExecutor executor;

    public HostPlatformClock() {
        executor = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon().name("jhyve-platform-timers").unstarted(r));
        // A cancelled timer leaves the queue at once: a guest re-arming its APIC timer a million times must not
        // leave a million dead entries behind.
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Timer schedule(long deadlineNanos, Runnable action) {
        long delay = Math.max(0, deadlineNanos - System.nanoTime());
        ScheduledFuture<?> f;
        try {
            f = executor.schedule(() -> {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    log.error("a platform timer failed; the clock goes on", e);
                }
            }, delay, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            return () -> { };
        }
        return () -> f.cancel(false);
    }

    /** Stops the timer thread; timers not yet run never run. */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
