package org.jhyve.pci;

import org.jhyve.bus.BusDevice;

/**
 * A base address register's shape and the device behind it. {@code size} is a power of two
 * (at least 16 for memory, 4 for IO); a 64-bit memory BAR takes two BAR slots.
 */
public record PciBar(int index, Kind kind, long size, boolean prefetchable, BusDevice device) {
    public enum Kind { IO, MEMORY32, MEMORY64 }

    public PciBar {
        if (index < 0 || index > 5 || (kind == Kind.MEMORY64 && index > 4)) throw new IllegalArgumentException("bad BAR index " + index);
        if (Long.bitCount(size) != 1 || size < (kind == Kind.IO ? 4 : 16)) throw new IllegalArgumentException("BAR size must be a power of two: " + size);
    }

    public boolean isIo() { return kind == Kind.IO; }
}
