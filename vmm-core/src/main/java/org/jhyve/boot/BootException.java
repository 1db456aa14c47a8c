package org.jhyve.boot;

/** The guest image cannot be booted (not a kernel, truncated, too big...); the message is one line for the user. */
public final class BootException extends RuntimeException {
    public BootException(String message) {
        super(message);
    }

    public BootException(String message, Throwable cause) {
        super(message, cause);
    }
}
