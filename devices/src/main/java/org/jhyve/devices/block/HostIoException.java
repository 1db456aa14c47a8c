package org.jhyve.devices.block;

import java.io.IOException;

/** A failed host I/O call, with its errno so callers can tell "no space" from "bad address". */
public final class HostIoException extends IOException {
    private final int errno;

    public HostIoException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    public int errno() { return errno; }
}
