package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CmosRtcTest {
    /** A Sunday, a quarter of a second past 12:34:56 UTC: the first update comes 750 ms after construction. */
    private static final Instant START = Instant.parse("2024-03-10T12:34:56.250Z");

    private final ManualPlatformClock clock = new ManualPlatformClock();
    private final List<Boolean> irq = new ArrayList<>();
    private final CmosRtc rtc = new CmosRtc(clock, START, irq::add);

    private int read(int register) {
        rtc.write(0, 1, register);
        return (int) rtc.read(1, 1);
    }

    private void write(int register, int value) {
        rtc.write(0, 1, register);
        rtc.write(1, 1, value);
    }

    private boolean irqHigh() {
        return !irq.isEmpty() && irq.getLast();
    }

    private long risingEdges() {
        long n = 0;
        for (int i = 0; i < irq.size(); i++) if (irq.get(i) && (i == 0 || !irq.get(i - 1))) n++;
        return n;
    }

    /** Runs {@code nanos} in {@code step}s, reading register C whenever the IRQ is up as Linux's handler does. */
    private List<Integer> runHandler(long nanos, long step) {
        List<Integer> seen = new ArrayList<>();
        for (long t = 0; t < nanos; t += step) {
            clock.advance(step);
            if (irqHigh()) seen.add(read(0x0C));
        }
        return seen;
    }

    @Test
    void timeRegistersInBcd24Hours() {
        assertThat(read(0x00)).isEqualTo(0x56);
        assertThat(read(0x02)).isEqualTo(0x34);
        assertThat(read(0x04)).isEqualTo(0x12);
        assertThat(read(0x06)).as("Sunday").isEqualTo(1);
        assertThat(read(0x07)).isEqualTo(0x10);
        assertThat(read(0x08)).isEqualTo(0x03);
        assertThat(read(0x09)).isEqualTo(0x24);
        assertThat(read(0x32)).isEqualTo(0x20);
        clock.advance(750_000_000);
        assertThat(read(0x00)).as("the second after the update").isEqualTo(0x57);
    }

    @Test
    void binaryAnd12HourModes() {
        write(0x0B, 0x06); // binary, 24 hours
        assertThat(read(0x00)).isEqualTo(56);
        assertThat(read(0x09)).isEqualTo(24);
        assertThat(read(0x32)).isEqualTo(20);
        write(0x0B, 0x04); // binary, 12 hours
        assertThat(read(0x04)).as("12 PM").isEqualTo(0x80 | 12);
        write(0x0B, 0x00); // BCD, 12 hours
        clock.advance(3_600_000_000_000L);
        assertThat(read(0x04)).as("1 PM").isEqualTo(0x81);
    }

    @Test
    void updateEndedInterruptOncePerSecondAndRegisterCClears() {
        write(0x0B, 0x12); // UIE, 24 hours, BCD
        List<Integer> seen = runHandler(5_000_000_000L, 10_000_000);
        assertThat(seen).hasSize(5).allMatch(c -> (c & 0x90) == 0x90);
        assertThat(risingEdges()).isEqualTo(5);
        assertThat(read(0x0C) & 0x90).as("a second read finds no IRQF, no UF (PF runs at rate 6 regardless)").isZero();
        assertThat(irqHigh()).isFalse();
    }

    @Test
    void noFurtherInterruptUntilRegisterCIsRead() {
        write(0x0B, 0x12);
        clock.advance(3_000_000_000L);
        assertThat(risingEdges()).isEqualTo(1);
        assertThat(clock.pending()).as("no timer while the line is up").isZero();
        assertThat(read(0x0C) & 0x90).isEqualTo(0x90);
        assertThat(irqHigh()).isFalse();
        clock.advance(1_000_000_000L);
        assertThat(risingEdges()).isEqualTo(2);
    }

    @Test
    void periodicInterruptAtTheRateRegisterASelects() {
        write(0x0A, 0x26); // 1024 Hz
        write(0x0B, 0x42); // PIE
        List<Integer> seen = runHandler(1_000_000_000L, 100_000);
        assertThat(seen).hasSize(1024).allMatch(c -> (c & 0xC0) == 0xC0);

        write(0x0A, 0x2F); // 2 Hz
        read(0x0C);
        assertThat(runHandler(3_000_000_000L, 10_000_000)).hasSize(6);
    }

    @Test
    void noTimerWhenNothingIsEnabledButFlagsStillSet() {
        assertThat(clock.pending()).isZero();
        clock.advance(2_000_000_000L);
        assertThat(irq).isEmpty();
        assertThat(read(0x0C)).as("PF and UF set, IRQF not").isEqualTo(0x50);
        write(0x0B, 0x02 | 0x40);
        write(0x0B, 0x02);
        assertThat(clock.pending()).isZero();
    }

    @Test
    void alarmMatchesHoursMinutesSeconds() {
        write(0x01, 0x10);
        write(0x03, 0x35);
        write(0x05, 0x12);
        write(0x0B, 0x22); // AIE
        clock.advance(13_700_000_000L); // 12:35:09.95
        assertThat(irq).isEmpty();
        clock.advance(100_000_000L);
        assertThat(irqHigh()).isTrue();
        assertThat(read(0x0C) & 0xB0).as("IRQF, AF, and UF of the same update").isEqualTo(0x80 | 0x20 | 0x10);
        clock.advance(10_000_000_000L);
        assertThat(irqHigh()).isFalse();
    }

    @Test
    void alarmDontCareValuesMatchAny() {
        write(0x01, 0x00);
        write(0x03, 0xC0);
        write(0x05, 0xFF); // every minute at :00
        write(0x0B, 0x22);
        List<Integer> seen = runHandler(125_000_000_000L, 50_000_000);
        assertThat(seen).hasSize(3); // 12:35:00, 12:36:00, 12:37:00
    }

    @Test
    void settingTheTimeWithSetKeepsAnOffset() {
        write(0x0B, 0x82); // SET
        for (int[] r : new int[][] {{0, 0x06}, {2, 0x05}, {4, 0x04}, {7, 0x03}, {8, 0x02}, {9, 0x01}, {0x32, 0x20}}) {
            write(r[0], r[1]);
        }
        clock.advance(5_000_000_000L);
        assertThat(read(0x00)).as("stopped while SET").isEqualTo(0x06);
        write(0x0B, 0x02);
        clock.advance(2_500_000_000L);
        assertThat(read(0x00)).isEqualTo(0x08);
        assertThat(read(0x02)).isEqualTo(0x05);
        assertThat(read(0x09)).isEqualTo(0x01);
        assertThat(read(0x06)).as("2001-02-03 was a Saturday").isEqualTo(7);
    }

    @Test
    void oneRegisterWrittenWhileRunningAndInvalidValuesIgnored() {
        write(0x02, 0x59);
        assertThat(read(0x02)).isEqualTo(0x59);
        assertThat(read(0x04)).isEqualTo(0x12);
        write(0x08, 0x13); // month 13
        assertThat(read(0x08)).isEqualTo(0x03);
        write(0x00, 0x5A); // no BCD
        assertThat(read(0x00)).isEqualTo(0x56);
        write(0x32, 0x99); // year 9924: past what the clock can count in nanoseconds
        assertThat(read(0x32)).isEqualTo(0x20);
    }

    @Test
    void uipShortlyBeforeEachUpdate() {
        assertThat(read(0x0A) & 0x80).isZero();
        clock.advance(750_000_000L - 100_000);
        assertThat(read(0x0A) & 0x80).isEqualTo(0x80);
        clock.advance(100_000);
        assertThat(read(0x0A) & 0x80).isZero();
    }

    @Test
    void registersCdAndRamAndIndexPort() {
        assertThat(read(0x0D)).isEqualTo(0x80);
        write(0x0D, 0);
        assertThat(read(0x0D)).isEqualTo(0x80);
        write(0x0A, 0xFF);
        assertThat(read(0x0A) & 0x7F).isEqualTo(0x7F);
        write(0x40, 0xAB);
        write(0x7F, 0xCD);
        assertThat(read(0x40)).isEqualTo(0xAB);
        assertThat(read(0x7F)).isEqualTo(0xCD);
        rtc.write(0, 1, 0x80 | 0x40);
        assertThat(rtc.nmiMasked()).isTrue();
        assertThat(rtc.read(1, 1)).as("bit 7 is the NMI mask, not the index").isEqualTo(0xAB);
        assertThat(rtc.read(0, 1)).isEqualTo(0xFF);
        assertThat(rtc.read(5, 1)).isEqualTo(0xFF);
        rtc.setRamByte(0x34, 0x12);
        rtc.setRamByte(0x00, 0x99); // a clock register: not RAM
        assertThat(read(0x34)).isEqualTo(0x12);
        assertThat(read(0x00)).isEqualTo(0x56);
    }
}
