package org.jhyve.bus;

/** A registered range {@code [base, base+length)} on a bus, with the device that claims it. */
public record BusRange(long base, long length, String name, BusDevice device) {
    public BusRange {
        if (length <= 0) throw new IllegalArgumentException(name + ": empty bus range");
        if (base < 0 || Long.MAX_VALUE - base < length) throw new IllegalArgumentException(name + ": bus range wraps");
    }

    public long end() { return base + length; }

    public boolean overlaps(long otherBase, long otherLength) {
        return otherBase < end() && base < otherBase + otherLength;
    }

    @Override
    public String toString() {
        return String.format("%s [0x%x-0x%x]", name, base, end() - 1);
    }
}
