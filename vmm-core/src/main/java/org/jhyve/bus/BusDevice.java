package org.jhyve.bus;

/**
 * The narrow interface every port-IO or MMIO device implements. Offsets are relative to the base the
 * device was registered at, so a device does not care where the guest (or the CLI) put it.
 *
 * <p>{@code size} is the access width in bytes: 1, 2 or 4 for port IO, up to 8 for MMIO. Values are
 * little-endian and carried in the low {@code size} bytes of a long, so dispatch allocates nothing.
 *
 * <p>Threading rules. {@link Bus} holds no lock around a call: each vCPU thread dispatches its own exits, so
 * {@link #read} and {@link #write} are called concurrently, with each other and with themselves, from as many
 * threads as the VM has vCPUs. An implementation guards its own state (typically with one register lock) and
 * owes no order between two vCPUs' accesses beyond that: as on hardware, concurrent accesses by different CPUs
 * arrive in some order. The calling vCPU runs no guest code until the call returns, so a call does not wait on
 * what the guest or the host's peers control (a disk request, a full pipe, a device worker, unless bounded):
 * such work belongs on the device's own threads. A device whose workers take its register lock must not make a
 * vCPU holding that lock wait for them. Offsets are relative to the range the call came through, which the guest
 * may move between two calls (a BAR reprogrammed).
 */
public interface BusDevice {
    /** The value the guest reads; only the low {@code size} bytes count. */
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
