package org.jhyve.devices.log;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * One device's log of what its guest (or a peer) got wrong, rate-limited so that a hostile or broken guest
 * cannot flood the host's log: the first {@value #LOUD} reports are logged at warn, after that at most one a
 * minute (saying how many were held back in between); the rest go to debug. The count keeps growing either
 * way. {@link #fault} is for device faults (an exception the device caught and contained): only the first
 * carries its stack trace.
 *
 * <p>Thread-safe: vCPU threads and device workers report concurrently.
 */
public final class GuestErrorLog {
    static final int LOUD = 10;
    static final long QUIET_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Logger log;
    private final String name;
    private final LongSupplier clock;
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong nextLoudAt = new AtomicLong();
    private final AtomicBoolean traced = new AtomicBoolean();

    public GuestErrorLog(Logger log, String name) {
        this(log, name, System::nanoTime);
    }

    GuestErrorLog(Logger log, String name, LongSupplier clock) {
        this.log = log;
        this.name = name;
        this.clock = clock;
    }

    /** Counts and (rate-limited) logs one guest mistake; {@code format} is a {@link String#format} pattern. */
    public void report(String format, Object... args) {
        String message = String.format(format, args);
        long suppressed = admit();
        if (suppressed < 0) log.debug("{}: {}", name, message);
        else if (suppressed == 0) log.warn("{}: {}", name, message);
        else log.warn("{}: {} ({} similar reports not shown since the last)", name, message, suppressed);
    }

    /** Counts and (rate-limited) logs a fault the device contained; the stack trace only the first time. */
    public void fault(String message, Throwable cause) {
        long suppressed = admit();
        if (suppressed < 0) log.debug("{}: {}: {}", name, message, cause.toString());
        else if (traced.compareAndSet(false, true)) log.error("{}: {}", name, message, cause);
        else log.error("{}: {}: {} ({} similar reports not shown since the last)", name, message, cause, suppressed);
    }

    /** Reports so far, logged loudly or not. */
    public long count() {
        return count.get();
    }

    /** -1 when this report goes to debug; otherwise how many were held back since the last loud one. */
    private long admit() {
        long n = count.incrementAndGet();
        if (n <= LOUD) return 0;
        long now = clock.getAsLong();
        long due = nextLoudAt.get();
        if (n == LOUD + 1) {
            nextLoudAt.compareAndSet(0, now + QUIET_INTERVAL_NANOS);
            held.incrementAndGet();
            return -1;
        }
        if (now - due >= 0 && nextLoudAt.compareAndSet(due, now + QUIET_INTERVAL_NANOS)) return held.getAndSet(0);
        held.incrementAndGet();
        return -1;
    }
}
