package org.jhyve.devices.block;

import org.jhyve.posix.ErrnoException;

/**
 * A failed host I/O call on a disk image, with its errno so callers can tell "no space" from "bad address":
 * the POSIX layer's {@link ErrnoException}, its message naming the image, e.g.
 * {@code "disk.img: fdatasync: Input/output error (errno 5)"}.
 */
public final class HostIoException extends ErrnoException {
    /** {@code call} failed on the image at {@code path}. */
    public HostIoException(String path, String call, int errno) {
        super(call, path, errno);
    }

    /** With a message of the caller's own (a test's injected fault); the function is not known. */
    public HostIoException(String message, int errno) {
        super("", errno, message);
    }
}
