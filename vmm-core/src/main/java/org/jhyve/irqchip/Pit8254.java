package org.jhyve.irqchip;

import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.irq.IrqLine;

/**
 * The 8254 programmable interval timer at ports 0x40-0x43: three counters on a 1.193182 MHz clock derived from
 * {@link PlatformClock#nanoTime()}, the control word (counter latch, read-back, modes 0-5 with 6 and 7 aliasing 2
 * and 3, access modes LSB, MSB and LSB-then-MSB). Counter 0's OUT drives {@code irq0} (the platform routes it to
 * PIC IRQ 0 and IOAPIC pin 2); counter 1 reads like the others but drives nothing; counter 2's gate and OUT are
 * port 0x61's bits 0 and 5 ({@link NmiStatusControlPort}).
 *
 * <p>Counter 0's interrupts: mode 0 raises {@code irq0} at terminal count and holds it until the counter is
 * programmed again, as OUT does (one interrupt); mode 4 pulses it once; modes 2 and 3 pulse it once a period, at
 * deadlines computed from the tick the count was loaded at, so they do not drift. Callbacks are bounded to one per
 * {@link #MIN_CALLBACK_INTERVAL_NANOS}: a period shorter than that (a count below 24) coalesces the periods that
 * elapsed into one pulse, so a count of 1 costs 50,000 callbacks a second, not 1.19 million. BCD counting is not
 * modelled (the bit is kept in the status but counting is binary).
 *
 * <p>Threading rules: every method and the port device from any thread at once; one lock guards the counters.
 * {@code irq0} is driven with that lock held (from a vCPU's port write or the clock's thread), so it must not call
 * back into this PIT; the PICs and the IOAPIC it reaches take their own locks after this one.
 */
public final class Pit8254 implements BytePorts {
    public static final int BASE_PORT = 0x40;
    public static final long MIN_CALLBACK_INTERVAL_NANOS = 20_000;
    private static final int CONTROL = 3;

    private final PlatformClock clock;
    private final PitClock ticks;
    private final IrqLine irq0;
    private final ReentrantLock lock = new ReentrantLock();
    private final PitChannel[] channels = {new PitChannel(true), new PitChannel(true), new PitChannel(false)};

    private PlatformClock.Timer timer;
    /** Bumped when counter 0 is reprogrammed, so a callback already running for the old timer does nothing. */
    private long generation;
    private long nextPeriod;
    private long lastCallbackNanos;
    private boolean irq0High;

    public Pit8254(PlatformClock clock, IrqLine irq0) {
        this.clock = clock;
        this.ticks = new PitClock(clock.nanoTime());
        this.irq0 = irq0;
    }

    @Override
    public int registerCount() {
        return 4;
    }

    @Override
    public int readByte(int offset) {
        if (offset == CONTROL) return 0xFF; // the control register is write-only
        lock.lock();
        try {
            return channels[offset].read(now());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void writeByte(int offset, int value) {
        lock.lock();
        try {
            if (offset == CONTROL) {
                control(value);
            } else if (channels[offset].writeCount(value, now()) && offset == 0) {
                setIrq0(false); // a new count restarts mode 0 with OUT low
                armChannel0();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Counter 2's gate (port 0x61 bit 0). */
    public void setChannel2Gate(boolean level) {
        lock.lock();
        try {
            channels[2].setGate(level, now());
        } finally {
            lock.unlock();
        }
    }

    /** Counter 2's OUT now (port 0x61 bit 5). */
    public boolean channel2Out() {
        lock.lock();
        try {
            return channels[2].out(now());
        } finally {
            lock.unlock();
        }
    }

    private long now() {
        return ticks.tickAt(clock.nanoTime());
    }

    private void control(int value) {
        int select = value >> 6 & 3;
        int access = value >> 4 & 3;
        long now = now();
        if (select == 3) {
            readBack(value, now);
            return;
        }
        PitChannel channel = channels[select];
        if (access == PitChannel.ACCESS_LATCH) {
            channel.latchCount(now);
            return;
        }
        channel.program(access, value >> 1 & 7, (value & 1) != 0);
        if (select == 0) {
            setIrq0(false);
            armChannel0();
        }
    }

    /** The read-back command: bit 5 clear latches the counts, bit 4 clear the statuses, of the counters in bits 1-3. */
    private void readBack(int value, long now) {
        for (int i = 0; i < 3; i++) {
            if ((value & (2 << i)) == 0) continue;
            if ((value & 0x10) == 0) channels[i].latchStatus(now);
            if ((value & 0x20) == 0) channels[i].latchCount(now);
        }
    }

    /** Cancels counter 0's timer and schedules the next interrupt of its new programming, if any. */
    private void armChannel0() {
        assert lock.isHeldByCurrentThread();
        if (timer != null) timer.cancel();
        timer = null;
        generation++;
        PitChannel c = channels[0];
        if (!c.loaded() || !c.running()) return;
        lastCallbackNanos = clock.nanoTime();
        switch (c.mode()) {
            case 0, 4 -> schedule(ticks.nanosOf(c.startTick() + c.period()));
            case 2, 3 -> {
                nextPeriod = 1;
                schedulePeriodic();
            }
            default -> { } // modes 1 and 5 wait for a gate edge, and counter 0's gate is tied high
        }
    }

    private void schedulePeriodic() {
        PitChannel c = channels[0];
        long due = ticks.nanosOf(c.startTick() + nextPeriod * c.period());
        schedule(Math.max(due, lastCallbackNanos + MIN_CALLBACK_INTERVAL_NANOS));
    }

    private void schedule(long deadline) {
        long expected = generation;
        timer = clock.schedule(deadline, () -> expire(expected));
    }

    private void expire(long expected) {
        lock.lock();
        try {
            if (expected != generation) return;
            timer = null;
            PitChannel c = channels[0];
            switch (c.mode()) {
                case 0 -> setIrq0(true);
                case 4 -> pulseIrq0();
                default -> {
                    long nanos = clock.nanoTime();
                    long periods = (ticks.tickAt(nanos) - c.startTick()) / c.period();
                    if (periods >= nextPeriod) {
                        pulseIrq0();
                        nextPeriod = periods + 1;
                    }
                    lastCallbackNanos = nanos;
                    schedulePeriodic();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void setIrq0(boolean level) {
        if (level == irq0High) return;
        irq0High = level;
        irq0.set(level);
    }

    private void pulseIrq0() {
        setIrq0(false);
        irq0High = false;
        irq0.pulse();
    }
}
