package org.jhyve.devices.virtio;

/**
 * One buffer of a descriptor chain: {@code length} bytes of guest RAM at {@code address}, which the device may
 * only read, or ({@code writable}) only write. {@link SplitQueue} checks the range lies in guest RAM before
 * handing it out.
 */
public record Descriptor(long address, int length, boolean writable) {
    public long end() { return address + Integer.toUnsignedLong(length); }
}
