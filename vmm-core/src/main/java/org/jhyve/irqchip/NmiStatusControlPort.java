package org.jhyve.irqchip;

import org.jhyve.bus.BusDevice;

/**
 * Port 0x61, the NMI status and control register ("port B"): bit 0 the PIT counter 2's gate, bit 1 the speaker
 * data enable (kept, there is no speaker), bits 2-3 the parity and channel check enables (kept), and read-only
 * bit 4 the refresh toggle (flipping every 15.085 µs of {@link PlatformClock} time, as the DRAM refresh request
 * did), bit 5 counter 2's OUT. Bits 6-7 (channel check, parity error) read 0: nothing raises them.
 *
 * <p>Linux's TSC calibration programs counter 2 in mode 0 with the gate on and polls bit 5: it reads the live
 * OUT of {@link Pit8254#channel2Out()}.
 *
 * <p>Threading rules: from any thread at once; the written bits are guarded by this object's lock, which is taken
 * before the PIT's.
 */
public final class NmiStatusControlPort implements BusDevice {
    public static final int PORT = 0x61;
    private static final long REFRESH_PERIOD_NANOS = 15_085;
    private static final int WRITABLE = 0x0F;

    private final Pit8254 pit;
    private final PlatformClock clock;
    private final Object lock = new Object();
    private int bits;

    public NmiStatusControlPort(Pit8254 pit, PlatformClock clock) {
        this.pit = pit;
        this.clock = clock;
    }

    @Override
    public long read(long offset, int size) {
        if (offset != 0) return 0xFF;
        synchronized (lock) {
            boolean refresh = (clock.nanoTime() / REFRESH_PERIOD_NANOS & 1) != 0;
            return bits | (refresh ? 0x10 : 0) | (pit.channel2Out() ? 0x20 : 0);
        }
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset != 0) return;
        synchronized (lock) {
            bits = (int) value & WRITABLE;
            pit.setChannel2Gate((bits & 1) != 0);
        }
    }
}
