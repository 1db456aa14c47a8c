package org.jhyve.posix;

import java.io.IOException;

/**
 * A libc call failed: which function, its errno, and a message saying both with the host's text for the error
 * ({@link Errno#message}), e.g. {@code "disk.img: preadv: Input/output error (errno 5)"}. Callers that treat some
 * errors apart (no space left, O_DIRECT not supported) test {@link #errno()}, not the message.
 */
public class ErrnoException extends IOException {
    private final String function;
    private final int errno;

    /** {@code function} failed with {@code errno} on {@code subject} (a path, a device; null when there is none). */
    public ErrnoException(String function, String subject, int errno) {
        this(function, errno, Errno.message(function, subject, errno));
    }

    /** With a message of the caller's own, for a subclass that says more. */
    protected ErrnoException(String function, int errno, String message) {
        super(message);
        this.function = function;
        this.errno = errno;
    }

    /** The libc function that failed, {@code "open"}. */
    public String function() { return function; }

    public int errno() { return errno; }
}
