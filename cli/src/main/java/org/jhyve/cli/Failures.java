package org.jhyve.cli;

/** One line for an exception jhyve did not expect: its class, message and where it was thrown. */
final class Failures {
    private Failures() {}

    /**
     * E.g. "java.lang.IllegalStateException: no queue (at org.jhyve.devices.Foo.bar(Foo.java:12))": the
     * frame is the first in jhyve's code, so that the line alone says where to look.
     */
    static String describe(Throwable e) {
        StringBuilder line = new StringBuilder(e.getClass().getName());
        if (e.getMessage() != null) line.append(": ").append(firstLine(e.getMessage()));
        StackTraceElement[] frames = e.getStackTrace();
        StackTraceElement where = null;
        for (StackTraceElement frame : frames) {
            if (frame.getClassName().startsWith("org.jhyve.")) {
                where = frame;
                break;
            }
        }
        if (where == null && frames.length > 0) where = frames[0];
        if (where != null) line.append(" (at ").append(where).append(')');
        return line.toString();
    }

    /** The first line of {@code message}, stripped; "unknown error" for none. */
    static String firstLine(String message) {
        if (message == null) return "unknown error";
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }
}
