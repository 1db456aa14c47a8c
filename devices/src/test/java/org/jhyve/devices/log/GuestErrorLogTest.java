package org.jhyve.devices.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class GuestErrorLogTest {
    private final RecordingLogger logger = new RecordingLogger();
    private final AtomicLong now = new AtomicLong(1_000);
    private final GuestErrorLog errors = new GuestErrorLog(logger, "disk0", now::get);

    @Test
    void aFloodOfReportsLogsTheFirstFewThenOneAMinute() {
        for (int i = 0; i < 100_000; i++) errors.report("bad descriptor %d", i);
        assertThat(errors.count()).isEqualTo(100_000);
        assertThat(logger.at(Level.WARN)).hasSize(GuestErrorLog.LOUD);
        assertThat(logger.at(Level.WARN).get(0).text()).isEqualTo("disk0: bad descriptor 0");

        now.addAndGet(GuestErrorLog.QUIET_INTERVAL_NANOS);
        errors.report("bad descriptor %d", -1);
        errors.report("bad descriptor %d", -2);
        assertThat(logger.at(Level.WARN)).hasSize(GuestErrorLog.LOUD + 1);
        assertThat(logger.at(Level.WARN).getLast().text())
                .isEqualTo("disk0: bad descriptor -1 (" + (100_000 - GuestErrorLog.LOUD) + " similar reports not shown since the last)");
    }

    @Test
    void onlyTheFirstFaultCarriesItsStackTrace() {
        for (int i = 0; i < 5; i++) errors.fault("queue 0 worker failed", new IllegalStateException("boom " + i));
        assertThat(logger.at(Level.ERROR)).hasSize(5);
        assertThat(logger.at(Level.ERROR).stream().filter(RecordingLogger.Line::hasThrowable)).hasSize(1);
        assertThat(logger.at(Level.ERROR).get(1).text()).contains("boom 1");
    }
}
