package org.jhyve.devices.log;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** An SLF4J logger for tests that keeps every line it is given, with its level and whether it had a throwable. */
public final class RecordingLogger extends LegacyAbstractLogger {
    public record Line(Level level, String text, boolean hasThrowable) {}

    private final List<Line> lines = new ArrayList<>();

    public RecordingLogger() {
        this.name = "recording";
    }

    public synchronized List<Line> lines() { return List.copyOf(lines); }

    public synchronized List<Line> at(Level level) {
        return lines.stream().filter(l -> l.level() == level).toList();
    }

    @Override
    protected synchronized void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args, Throwable t) {
        lines.add(new Line(level, MessageFormatter.basicArrayFormat(pattern, args), t != null));
    }

    @Override protected String getFullyQualifiedCallerName() { return null; }
    @Override public boolean isTraceEnabled() { return true; }
    @Override public boolean isDebugEnabled() { return true; }
    @Override public boolean isInfoEnabled() { return true; }
    @Override public boolean isWarnEnabled() { return true; }
    @Override public boolean isErrorEnabled() { return true; }
}
