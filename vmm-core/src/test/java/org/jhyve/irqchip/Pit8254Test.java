package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class Pit8254Test {
    private static final long HZ = 1_193_182;

    private final ManualPlatformClock clock = new ManualPlatformClock();
    private final long origin = clock.nanoTime();
    private final List<Boolean> irq0 = new ArrayList<>();
    private final Pit8254 pit = new Pit8254(clock, irq0::add);
    private final NmiStatusControlPort portB = new NmiStatusControlPort(pit, clock);

    /** PIT ticks since the PIT was made, computed independently of the model. */
    private long ticks() {
        return ticksAt(clock.nanoTime() - origin);
    }

    private static long ticksAt(long nanosSinceOrigin) {
        return BigInteger.valueOf(nanosSinceOrigin).multiply(BigInteger.valueOf(HZ))
                .divide(BigInteger.valueOf(1_000_000_000L)).longValueExact();
    }

    /** The first nanosecond (after the origin) at which {@code tick} ticks have passed. */
    private static long nanosOfTick(long tick) {
        return BigInteger.valueOf(tick).multiply(BigInteger.valueOf(1_000_000_000L)).add(BigInteger.valueOf(HZ - 1))
                .divide(BigInteger.valueOf(HZ)).longValueExact();
    }

    private void advanceTo(long nanosSinceOrigin) {
        clock.advance(origin + nanosSinceOrigin - clock.nanoTime());
    }

    private void control(int value) {
        pit.write(3, 1, value);
    }

    private void count(int channel, int value) {
        pit.write(channel, 1, value & 0xFF);
        pit.write(channel, 1, value >> 8);
    }

    private int readWord(int channel) {
        int lsb = (int) pit.read(channel, 1);
        return lsb | (int) pit.read(channel, 1) << 8;
    }

    private long risingEdges() {
        long n = 0;
        for (int i = 0; i < irq0.size(); i++) if (irq0.get(i) && (i == 0 || !irq0.get(i - 1))) n++;
        return n;
    }

    @Test
    void mode0CountsDownFromTheCountAndWraps() {
        control(0x30);
        count(0, 1000);
        advanceTo(300_000);
        assertThat(readWord(0)).isEqualTo(1000 - (int) ticks());
        advanceTo(2_000_000); // past terminal count: the counter wraps through 0xFFFF
        assertThat(readWord(0)).isEqualTo((int) ((1000 - ticks()) & 0xFFFF));
    }

    @Test
    void latchHoldsTheValueUntilBothBytesAreRead() {
        control(0x34); // mode 2, lsb/msb
        count(0, 50_000);
        advanceTo(10_000_000);
        control(0x00); // latch counter 0
        int expected = (int) (50_000 - ticks() % 50_000);
        advanceTo(12_000_000);
        control(0x00); // a second latch before the read keeps the first
        assertThat(pit.read(0, 1)).isEqualTo(expected & 0xFF);
        advanceTo(13_000_000);
        assertThat(pit.read(0, 1)).isEqualTo(expected >> 8);
        int live = readWord(0);
        assertThat(live).isEqualTo((int) (50_000 - ticks() % 50_000));
    }

    @Test
    void unlatchedReadsTakeEachByteAtItsOwnTime() {
        control(0x30);
        count(0, 0xFFFF);
        advanceTo(100_000);
        int lsb = (int) pit.read(0, 1);
        assertThat(lsb).isEqualTo((int) ((0xFFFF - ticks()) & 0xFF));
        advanceTo(50_000_000);
        assertThat(pit.read(0, 1)).isEqualTo((0xFFFF - ticks()) >> 8);
    }

    @Test
    void lsbOnlyAndMsbOnlyAccess() {
        control(0x10); // counter 0, LSB only, mode 0
        pit.write(0, 1, 200);
        advanceTo(50_000);
        assertThat(pit.read(0, 1)).isEqualTo(200 - ticks());
        control(0x24); // MSB only, mode 2
        pit.write(0, 1, 0x40);
        long start = ticks();
        advanceTo(60_000_000);
        assertThat(pit.read(0, 1)).isEqualTo((0x4000 - (ticks() - start) % 0x4000) >> 8);
    }

    @Test
    void mode3CountsByTwoEachHalfPeriod() {
        control(0x36);
        count(0, 1000);
        for (long t : new long[] {100_000, 420_000, 700_000, 5_000_000}) {
            advanceTo(t);
            assertThat(readWord(0)).as("at %d ns", t).isEqualTo((int) (1000 - (2 * ticks()) % 1000));
        }
    }

    @Test
    void mode2InterruptsOncePerPeriodWithoutDrift() {
        control(0x34);
        count(0, 1193); // Linux's HZ=1000 period: 999.85 µs
        advanceTo(10_000_000_000L);
        assertThat(risingEdges()).isEqualTo(ticks() / 1193);
        assertThat(clock.pending()).isEqualTo(1);
    }

    @Test
    void aLateTimerThreadDoesNotMakeThePeriodDrift() {
        long lateness = 300_000; // each callback runs 0.3 ms after its deadline, as a loaded host's thread may
        PlatformClock late = new PlatformClock() {
            @Override
            public long nanoTime() {
                return clock.nanoTime();
            }

            @Override
            public Timer schedule(long deadlineNanos, Runnable action) {
                return clock.schedule(deadlineNanos + lateness, action);
            }
        };
        List<Boolean> lateIrq = new ArrayList<>();
        Pit8254 latePit = new Pit8254(late, lateIrq::add);
        latePit.write(3, 1, 0x34);
        latePit.write(0, 1, 1193 & 0xFF);
        latePit.write(0, 1, 1193 >> 8);
        advanceTo(10_000_000_000L);
        long pulses = lateIrq.stream().filter(level -> level).count();
        assertThat(pulses).isEqualTo(ticksAt(10_000_000_000L - lateness) / 1193);
    }

    @Test
    void mode3InterruptsOncePerPeriodWithoutDrift() {
        control(0x36);
        count(0, 0); // 65536: the BIOS's 18.2 Hz
        advanceTo(60_000_000_000L);
        assertThat(risingEdges()).isEqualTo(ticks() / 65536);
    }

    @Test
    void mode0InterruptsOnceAtTerminalCount() {
        control(0x30);
        count(0, 5000);
        advanceTo(nanosOfTick(5000) - 1);
        assertThat(irq0).doesNotContain(true);
        advanceTo(nanosOfTick(5000));
        assertThat(irq0).containsExactly(true);
        advanceTo(1_000_000_000L);
        assertThat(risingEdges()).isEqualTo(1);
        assertThat(clock.pending()).isZero();
        count(0, 100); // a new count re-arms the one-shot: OUT drops and rises again
        advanceTo(1_000_000_000L + 1_000_000);
        assertThat(risingEdges()).isEqualTo(2);
    }

    @Test
    void reprogrammingCancelsTheOldTimer() {
        control(0x34);
        count(0, 1193);
        advanceTo(5_000_000);
        long before = risingEdges();
        control(0x30); // mode 0, no count yet: counter 0 stops
        advanceTo(50_000_000);
        assertThat(risingEdges()).isEqualTo(before);
        assertThat(clock.pending()).isZero();
    }

    @Test
    void aTinyPeriodIsCoalescedToTheCallbackBound() {
        control(0x34);
        count(0, 2);
        advanceTo(1_000_000);
        long perMs = 1_000_000 / Pit8254.MIN_CALLBACK_INTERVAL_NANOS;
        assertThat(risingEdges()).isBetween(perMs - 2, perMs + 1);
        assertThat(clock.pending()).isEqualTo(1);
    }

    @Test
    void channel2OutRisesAtTerminalCountOnlyWithTheGate() {
        portB.write(0, 1, 0x01); // gate on, speaker off: what Linux's pit_calibrate_tsc writes
        control(0xB0); // counter 2, lsb/msb, mode 0
        long start = ticks();
        count(2, 11932); // 10 ms
        assertThat(portB.read(0, 1) & 0x20).isZero();
        advanceTo(nanosOfTick(start + 11932) - 1);
        assertThat(portB.read(0, 1) & 0x20).isZero();
        advanceTo(nanosOfTick(start + 11932));
        assertThat(portB.read(0, 1) & 0x20).isEqualTo(0x20);
        assertThat(portB.read(0, 1) & 0x0F).isEqualTo(0x01);
        assertThat(irq0).as("counter 2 drives no interrupt").isEmpty();
    }

    @Test
    void channel2GateLowHoldsTheCount() {
        control(0xB0);
        count(2, 1000); // gate low: not counting
        advanceTo(10_000_000);
        assertThat(readWord(2)).isEqualTo(1000);
        assertThat(portB.read(0, 1) & 0x20).isZero();
        portB.write(0, 1, 0x01);
        long start = ticks();
        advanceTo(10_000_000 + 500_000);
        assertThat(readWord(2)).isEqualTo((int) (1000 - (ticks() - start)));
    }

    @Test
    void readBackLatchesStatusThenCount() {
        control(0x34);
        pit.write(3, 1, 0xE2); // read-back status of counter 0
        assertThat(pit.read(0, 1)).as("OUT high after a mode 2 control word, null count, lsb/msb, mode 2").isEqualTo(0xF4);
        count(0, 3000);
        advanceTo(1_000_000);
        pit.write(3, 1, 0xC2); // status and count
        int expected = (int) (3000 - ticks() % 3000);
        advanceTo(1_500_000);
        assertThat(pit.read(0, 1)).as("OUT high, counting, mode 2").isEqualTo(0xB4);
        assertThat(readWord(0)).isEqualTo(expected);
    }

    @Test
    void modes6And7AliasModes2And3() {
        control(0x3C); // mode 6
        count(0, 1193);
        advanceTo(3_000_000_000L);
        assertThat(risingEdges()).isEqualTo(ticks() / 1193);
        assertThat(readWord(0)).isEqualTo((int) (1193 - ticks() % 1193));
    }

    @Test
    void refreshToggleFlipsWithTime() {
        int first = (int) portB.read(0, 1) & 0x10;
        clock.advance(15_085);
        assertThat(portB.read(0, 1) & 0x10).isNotEqualTo(first);
    }

    @Test
    void hostileAccessesAreContained() {
        assertThat(pit.read(3, 1)).isEqualTo(0xFF);
        assertThat(pit.read(7, 1)).isEqualTo(0xFF);
        pit.write(9, 1, 0x34);
        pit.write(-1, 4, -1);
        control(0xFF); // read-back with nothing latched
        assertThat(irq0).isEmpty();
    }
}
