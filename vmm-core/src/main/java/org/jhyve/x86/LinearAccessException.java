package org.jhyve.x86;

/** A guest linear address that could not be reached: not mapped by the guest's page tables, or not RAM. */
final class LinearAccessException extends Exception {
    private final long linearAddress;

    LinearAccessException(long linearAddress, String why) {
        super(String.format("linear address 0x%x %s", linearAddress, why));
        this.linearAddress = linearAddress;
    }

    long linearAddress() { return linearAddress; }
}
