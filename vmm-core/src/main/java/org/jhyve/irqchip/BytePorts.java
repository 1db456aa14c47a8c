package org.jhyve.irqchip;

import org.jhyve.bus.BusDevice;

/**
 * A device of byte-wide ISA registers: an access wider than a byte reads or writes the consecutive registers, as
 * the ISA bus splits it; offsets outside the device read all-ones and ignore writes, as on a floating bus.
 *
 * <p>Threading rules: those of the implementation's {@link #readByte} and {@link #writeByte}.
 */
interface BytePorts extends BusDevice {
    /** How many byte registers the device decodes, from offset 0. */
    int registerCount();

    int readByte(int offset);

    void writeByte(int offset, int value);

    @Override
    default long read(long offset, int size) {
        long value = 0;
        for (int i = 0; i < Math.clamp(size, 1, 8); i++) {
            long at = offset + i;
            int b = at >= 0 && at < registerCount() ? readByte((int) at) : 0xFF;
            value |= (long) (b & 0xFF) << (8 * i);
        }
        return value;
    }

    @Override
    default void write(long offset, int size, long value) {
        for (int i = 0; i < Math.clamp(size, 1, 8); i++) {
            long at = offset + i;
            if (at >= 0 && at < registerCount()) writeByte((int) at, (int) (value >>> (8 * i)) & 0xFF);
        }
    }
}
