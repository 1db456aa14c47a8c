package org.jhyve.fuzz;

import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J provider of the vmm-core, devices and firmware test runs (chosen by the {@code slf4j.provider}
 * system property in their surefire configuration): prints nothing, as SLF4J's no-op fallback did before, and
 * hands warn and error lines to {@link CapturedLogs}, which a fuzz target opens around each input. Debug and
 * info are disabled, so they cost nothing.
 */
public final class CapturingLoggerProvider implements SLF4JServiceProvider {
    private final Factory factory = new Factory();
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();

    @Override public ILoggerFactory getLoggerFactory() { return factory; }

    @Override public IMarkerFactory getMarkerFactory() { return markers; }

    @Override public MDCAdapter getMDCAdapter() { return mdc; }

    @Override public String getRequestedApiVersion() { return "2.0.99"; }

    @Override public void initialize() { }

    static final class Factory implements ILoggerFactory {
        private final ConcurrentHashMap<String, Logger> loggers = new ConcurrentHashMap<>();

        @Override
        public Logger getLogger(String name) {
            return loggers.computeIfAbsent(name, CapturingLogger::new);
        }
    }

    private static final class CapturingLogger extends LegacyAbstractLogger {
        CapturingLogger(String name) {
            this.name = name;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args, Throwable t) {
            CapturedLogs.logged(new LogEvent(level, name, MessageFormatter.basicArrayFormat(pattern, args), t));
        }

        @Override protected String getFullyQualifiedCallerName() { return null; }
        @Override public boolean isTraceEnabled() { return false; }
        @Override public boolean isDebugEnabled() { return false; }
        @Override public boolean isInfoEnabled() { return false; }
        @Override public boolean isWarnEnabled() { return true; }
        @Override public boolean isErrorEnabled() { return true; }
    }
}
