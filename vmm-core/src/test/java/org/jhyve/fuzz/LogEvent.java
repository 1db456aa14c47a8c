package org.jhyve.fuzz;

import org.slf4j.event.Level;

/** One warn or error line logged while a fuzz input ran: who logged it, the text, and its exception if any. */
public record LogEvent(Level level, String logger, String message, Throwable thrown) {
    @Override
    public String toString() {
        return level + " " + logger + ": " + message + (thrown == null ? "" : " (" + thrown + ")");
    }
}
