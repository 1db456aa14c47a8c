package org.jhyve.hv;

/** A hypervisor call failed on the host side; carries errno where there is one (0 otherwise). */
public class HypervisorException extends RuntimeException {
    private final int errno;

    public HypervisorException(String message, int errno) {
        super(errno == 0 ? message : message + " (errno " + errno + ")");
        this.errno = errno;
    }

    public HypervisorException(String message) {
        this(message, 0);
    }

    public int errno() { return errno; }
}
