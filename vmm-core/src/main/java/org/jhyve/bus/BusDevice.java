package org.jhyve.bus;

/**
 * The narrow interface every port-IO or MMIO device implements. Offsets are relative to the base the
 * device was registered at, so a device does not care where the guest (or the CLI) put it.
 *
 * <p>{@code size} is the access width in bytes: 1, 2 or 4 for port IO, up to 8 for MMIO. Values are
 * little-endian and carried in the low {@code size} bytes of a long, so dispatch allocates nothing.
 */
public interface BusDevice {
    /** The value the guest reads; only the low {@code size} bytes count. */
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
