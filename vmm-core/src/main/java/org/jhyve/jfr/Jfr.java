package org.jhyve.jfr;

import jdk.jfr.FlightRecorder;

/**
 * Whether JFR is up in this JVM, asked before any of jhyve's event classes is touched. Loading the first
 * {@link jdk.jfr.Event} subclass brings in JFR's metadata and settings machinery (measured: about 190 ms of
 * a 2-core host's start-up, on the first vCPU exit), so the hooks make no event until JFR has been started:
 * by {@code -XX:StartFlightRecording}, by {@code jcmd PID JFR.start} on a running jhyve, or by a
 * {@code jdk.jfr.Recording} made in-process. Once it has, the event classes load and JFR instruments them
 * as usual, and each hook costs what JFR's own {@code isEnabled} test costs.
 *
 * <p>Threading: any thread; {@link FlightRecorder#isInitialized} is a read of one volatile field.
 */
public final class Jfr {
    private Jfr() {}

    /** True once JFR has been started in this JVM (it stays so); false before, when no event can be recorded. */
    public static boolean started() {
        return FlightRecorder.isInitialized();
    }
}
