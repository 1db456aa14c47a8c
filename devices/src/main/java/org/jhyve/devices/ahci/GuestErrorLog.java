package org.jhyve.devices.ahci;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * One log line per guest mistake, at warn for the first few and at debug after that, so a hostile or broken
 * guest cannot flood the host's log; the count keeps growing either way.
 */
final class GuestErrorLog {
    private static final int LOUD = 10;

    private final Logger log;
    private final String name;
    private final AtomicLong count = new AtomicLong();

    GuestErrorLog(Logger log, String name) {
        this.log = log;
        this.name = name;
    }

    void report(String format, Object... args) {
        String message = String.format(format, args);
        if (count.incrementAndGet() <= LOUD) log.warn("{}: {}", name, message);
        else log.debug("{}: {}", name, message);
    }

    long count() {
        return count.get();
    }
}
