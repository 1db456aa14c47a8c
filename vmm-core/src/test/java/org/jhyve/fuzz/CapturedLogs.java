package org.jhyve.fuzz;

import java.util.function.Predicate;

/**
 * Turns warn and error lines logged while one fuzz input runs into findings: device code contains its own
 * faults (a port's internal error, a worker's unexpected exception, a GDB packet that "failed") and only logs
 * them, so the log is where the fuzzer sees them. Each target says which lines are findings; guest mistakes
 * the device reports as designed are not.
 *
 * <p>Works when {@link CapturingLoggerProvider} is SLF4J's provider (the modules' test configuration sets
 * {@code slf4j.provider}); {@link #active()} tells. One capture at a time per JVM (the fuzzer runs one input at
 * a time); lines from other threads during the capture count too, which is the point: device workers.
 */
public final class CapturedLogs implements AutoCloseable {
    private static volatile CapturedLogs current;

    private final Findings findings;
    private final Predicate<LogEvent> isFinding;
    private final Thread.UncaughtExceptionHandler previousHandler;

    private CapturedLogs(Findings findings, Predicate<LogEvent> isFinding) {
        this.findings = findings;
        this.isFinding = isFinding;
        this.previousHandler = Thread.getDefaultUncaughtExceptionHandler();
    }

    /**
     * Starts capturing: log lines {@code isFinding} accepts, and any exception that ends a thread, become
     * findings of the current input until {@link #close}.
     */
    public static CapturedLogs open(Findings findings, Predicate<LogEvent> isFinding) {
        if (!active()) {
            throw new IllegalStateException("SLF4J's provider is not " + CapturingLoggerProvider.class.getName()
                    + ": run with -Dslf4j.provider=" + CapturingLoggerProvider.class.getName() + " (the modules' surefire configuration sets it)");
        }
        CapturedLogs c = new CapturedLogs(findings, isFinding);
        Thread.setDefaultUncaughtExceptionHandler((thread, e) ->
                findings.add("uncaught exception ended thread " + thread.getName(), e));
        current = c;
        return c;
    }

    /** Whether log lines reach this class at all (the capturing provider is SLF4J's). */
    public static boolean active() {
        return org.slf4j.LoggerFactory.getILoggerFactory() instanceof CapturingLoggerProvider.Factory;
    }

    static void logged(LogEvent event) {
        CapturedLogs c = current;
        if (c != null && c.isFinding.test(event)) c.findings.add("logged: " + event, event.thrown());
    }

    @Override
    public void close() {
        current = null;
        Thread.setDefaultUncaughtExceptionHandler(previousHandler);
    }
}
