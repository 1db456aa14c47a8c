package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.irqchip.ApicRegisters.*;
import static org.jhyve.irqchip.ApicRig.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LocalApicTimerTest {
    private static final int VECTOR = 0xec;
    private static final int PERIODIC = 1 << 17;
    private static final int TSC_DEADLINE = 2 << 17;
    private static final int DIVIDE_1 = 0xb;

    private final ApicRig rig = new ApicRig();
    private final LocalApic apic = rig.add(0);

    /** The first nanosecond at which {@code ticks} bus ticks have passed. */
    private static long nanosFor(long ticks) {
        long hz = LocalApic.BUS_FREQUENCY_HZ;
        return ticks / hz * 1_000_000_000L + Math.ceilDiv(ticks % hz * 1_000_000_000L, hz);
    }

    @Test
    void oneShotFiresOnceAtItsDeadline() {
        write(apic, LVT_TIMER, VECTOR);
        write(apic, TIMER_DIVIDE, DIVIDE_1);
        int count = 1 << 18;
        write(apic, TIMER_INITIAL_COUNT, count);

        rig.clock.advance(nanosFor(count) - 1);
        assertThat(apic.pendingVector()).isEqualTo(-1);
        rig.clock.advance(1);
        assertThat(inject(apic)).isEqualTo(VECTOR);
        assertThat(rig.listener(apic).pendingCalls).isEqualTo(1);
        eoi(apic);

        rig.clock.advance(10 * nanosFor(count));
        assertThat(apic.pendingVector()).isEqualTo(-1);
        assertThat(read(apic, TIMER_CURRENT_COUNT)).isZero();
        assertThat(rig.clock.pending()).isZero();
    }

    @ParameterizedTest(name = "divide config {0} divides by {1}")
    @CsvSource({"0x0,2", "0x1,4", "0x2,8", "0x3,16", "0x8,32", "0x9,64", "0xa,128", "0xb,1"})
    void currentCountFallsAtTheBusFrequencyOverTheDivisor(String config, int divisor) {
        write(apic, LVT_TIMER, VECTOR);
        write(apic, TIMER_DIVIDE, Integer.decode(config));
        int initial = 100_000_000;
        write(apic, TIMER_INITIAL_COUNT, initial);
        assertThat(read(apic, TIMER_CURRENT_COUNT)).isEqualTo(initial);

        long elapsed = 0;
        for (long step : new long[] {1_000_000, 3_333_333, 50_000_000}) {
            rig.clock.advance(step);
            elapsed += step;
            long ticks = elapsed * LocalApic.BUS_FREQUENCY_HZ / 1_000_000_000L;
            assertThat(read(apic, TIMER_CURRENT_COUNT)).as("after %d ns", elapsed).isEqualTo(initial - (int) (ticks / divisor));
        }
        rig.clock.advance(nanosFor((long) initial * divisor) - elapsed - 1);
        assertThat(apic.pendingVector()).isEqualTo(-1);
        rig.clock.advance(1);
        assertThat(apic.pendingVector()).isEqualTo(VECTOR);
    }

    @Test
    void periodicFiresOncePerPeriodOnAGridThatDoesNotDrift() {
        write(apic, LVT_TIMER, VECTOR | PERIODIC);
        write(apic, TIMER_DIVIDE, DIVIDE_1);
        // A period that is no whole number of nanoseconds: rounding each period would drift.
        long count = 1_000_003;
        long start = rig.clock.nanoTime();
        write(apic, TIMER_INITIAL_COUNT, (int) count);

        for (int k = 1; k <= 2_000; k++) {
            long deadline = start + nanosFor(k * count);
            rig.clock.advance(deadline - 1 - rig.clock.nanoTime());
            assertThat(apic.pendingVector()).as("just before period %d", k).isEqualTo(-1);
            rig.clock.advance(1);
            assertThat(inject(apic)).as("period %d", k).isEqualTo(VECTOR);
            eoi(apic);
        }
        assertThat(rig.listener(apic).pendingCalls).isEqualTo(2_000);
        assertThat(read(apic, TIMER_CURRENT_COUNT)).isEqualTo((int) count);
    }

    @Test
    void aMaskedTimerCountsDownButRaisesNothing() {
        write(apic, LVT_TIMER, VECTOR | LVT_MASKED | PERIODIC);
        write(apic, TIMER_DIVIDE, DIVIDE_1);
        int count = 1 << 20;
        write(apic, TIMER_INITIAL_COUNT, count);
        rig.clock.advance(nanosFor(count / 2));
        assertThat(read(apic, TIMER_CURRENT_COUNT)).isEqualTo(count / 2);
        rig.clock.advance(nanosFor(count) * 3);
        assertThat(apic.pendingVector()).isEqualTo(-1);
        assertThat(bit(apic, IRR0, VECTOR)).isFalse();

        write(apic, LVT_TIMER, VECTOR | PERIODIC);
        rig.clock.advance(nanosFor(count));
        assertThat(apic.pendingVector()).isEqualTo(VECTOR);
    }

    @Test
    void initialCountZeroAndAModeSwitchStopTheTimer() {
        write(apic, LVT_TIMER, VECTOR);
        write(apic, TIMER_INITIAL_COUNT, 1 << 20);
        write(apic, TIMER_INITIAL_COUNT, 0);
        rig.clock.advance(1_000_000_000L);
        assertThat(apic.pendingVector()).isEqualTo(-1);

        write(apic, TIMER_INITIAL_COUNT, 1 << 20);
        write(apic, LVT_TIMER, VECTOR | PERIODIC);
        assertThat(read(apic, TIMER_INITIAL_COUNT)).isZero();
        rig.clock.advance(1_000_000_000L);
        assertThat(apic.pendingVector()).isEqualTo(-1);
        assertThat(rig.clock.pending()).isZero();
    }

    @Test
    void tscDeadlineFiresAtTheDeadlineReadsZeroAfterAndZeroDisarms() {
        write(apic, LVT_TIMER, VECTOR | TSC_DEADLINE);
        long deadline = rig.tsc.now() + TSC_HZ / 1000; // 1 ms
        assertThat(apic.writeMsr(MSR_TSC_DEADLINE, deadline)).isTrue();
        assertThat(apic.readMsr(MSR_TSC_DEADLINE)).hasValue(deadline);

        rig.clock.advance(999_999);
        assertThat(apic.pendingVector()).isEqualTo(-1);
        rig.clock.advance(1);
        assertThat(inject(apic)).isEqualTo(VECTOR);
        eoi(apic);
        assertThat(apic.readMsr(MSR_TSC_DEADLINE)).hasValue(0);

        apic.writeMsr(MSR_TSC_DEADLINE, rig.tsc.now() + TSC_HZ / 1000);
        apic.writeMsr(MSR_TSC_DEADLINE, 0);
        rig.clock.advance(10_000_000);
        assertThat(apic.pendingVector()).isEqualTo(-1);
    }

    @Test
    void rewritingTheTscDeadlineRearmsAtTheNewOne() {
        write(apic, LVT_TIMER, VECTOR | TSC_DEADLINE);
        long now = rig.tsc.now();
        apic.writeMsr(MSR_TSC_DEADLINE, now + 3_000_000); // 1 ms
        apic.writeMsr(MSR_TSC_DEADLINE, now + 6_000_000); // 2 ms
        rig.clock.advance(1_999_999);
        assertThat(apic.pendingVector()).isEqualTo(-1);
        rig.clock.advance(1);
        assertThat(apic.pendingVector()).isEqualTo(VECTOR);

        // A deadline already past fires at once.
        inject(apic);
        eoi(apic);
        apic.writeMsr(MSR_TSC_DEADLINE, 1);
        rig.clock.advance(0);
        assertThat(apic.pendingVector()).isEqualTo(VECTOR);
    }

    @Test
    void tscDeadlineOutsideItsModeIsIgnoredAndLeavingTheModeDisarms() {
        write(apic, LVT_TIMER, VECTOR);
        assertThat(apic.writeMsr(MSR_TSC_DEADLINE, rig.tsc.now() + 3_000)).isTrue();
        assertThat(apic.readMsr(MSR_TSC_DEADLINE)).hasValue(0);
        rig.clock.advance(1_000_000);
        assertThat(apic.pendingVector()).isEqualTo(-1);

        write(apic, LVT_TIMER, VECTOR | TSC_DEADLINE);
        apic.writeMsr(MSR_TSC_DEADLINE, rig.tsc.now() + 3_000);
        write(apic, LVT_TIMER, VECTOR);
        rig.clock.advance(1_000_000);
        assertThat(apic.pendingVector()).isEqualTo(-1);
        // Initial-count writes do nothing in TSC-deadline mode.
        write(apic, LVT_TIMER, VECTOR | TSC_DEADLINE);
        write(apic, TIMER_INITIAL_COUNT, 1000);
        rig.clock.advance(1_000_000);
        assertThat(apic.pendingVector()).isEqualTo(-1);
    }
}
