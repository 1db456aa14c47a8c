package org.jhyve.memory;

/**
 * A guest-physical access that falls outside guest RAM (or wraps around the address space).
 * Carries the guest address so device-model errors can name it.
 */
public final class GuestMemoryException extends RuntimeException {
    private final long address;
    private final long length;

    public GuestMemoryException(long address, long length) {
        super(String.format("guest access [0x%x, +0x%x) is outside guest RAM", address, length));
        this.address = address;
        this.length = length;
    }

    public long address() { return address; }

    public long length() { return length; }
}
