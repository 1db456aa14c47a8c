package org.jhyve.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BusTest {
    /** Records accesses; reads return the offset so tests see the relative address. */
    static final class Recorder implements BusDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public long read(long offset, int size) {
            log.add("r" + size + "@" + offset);
            return 0x1234_5678_9abc_def0L + offset;
        }

        @Override
        public void write(long offset, int size, long value) {
            log.add("w" + size + "@" + offset + "=" + Long.toHexString(value));
        }
    }

    @Test
    void dispatchesRelativeToTheBaseAndMasksToTheAccessSize() {
        Bus bus = new Bus("port-io");
        Recorder dev = new Recorder();
        bus.register(0x3f8, 8, "com1", dev);
        assertThat(bus.read(0x3fd, 1)).isEqualTo(0xf5);
        bus.write(0x3f8, 2, 0xabcdef);
        assertThat(dev.log).containsExactly("r1@5", "w2@0=cdef");
    }

    @Test
    void overlappingRegistrationsAreRejectedNamingBoth() {
        Bus bus = new Bus("port-io");
        bus.register(0x3f8, 8, "com1", new Recorder());
        assertThatThrownBy(() -> bus.register(0x3ff, 1, "intruder", new Recorder()))
                .isInstanceOf(BusConflictException.class).hasMessageContaining("intruder").hasMessageContaining("com1");
        assertThatThrownBy(() -> bus.register(0x3f0, 9, "below", new Recorder())).isInstanceOf(BusConflictException.class);
        assertThatThrownBy(() -> bus.register(0x300, 0x1000, "around", new Recorder())).isInstanceOf(BusConflictException.class);
        bus.register(0x3f0, 8, "adjacent-below", new Recorder());
        bus.register(0x400, 8, "adjacent-above", new Recorder());
        assertThat(bus.ranges()).extracting(BusRange::name).containsExactly("adjacent-below", "com1", "adjacent-above");
    }

    @Test
    void unclaimedReadsAreAllOnesAndWritesAreDropped() {
        Bus bus = new Bus("port-io");
        assertThat(bus.read(0x80, 1)).isEqualTo(0xff);
        assertThat(bus.read(0x80, 2)).isEqualTo(0xffff);
        assertThat(bus.read(0x80, 4)).isEqualTo(0xffff_ffffL);
        assertThat(bus.read(0xd000_0000L, 8)).isEqualTo(-1L);
        bus.write(0x80, 1, 0x55); // must not throw
    }

    @Test
    void movingARangeKeepsTheDeviceAndRefusesOverlapWithoutLosingIt() {
        Bus bus = new Bus("mmio");
        Recorder bar = new Recorder();
        bus.register(0xc000_0000L, 0x1000, "bar0", bar);
        bus.register(0xc000_2000L, 0x1000, "other", new Recorder());
        bus.move(0xc000_0000L, 0xd000_0000L);
        assertThat(bus.lookup(0xc000_0000L)).isNull();
        assertThat(bus.lookup(0xd000_0fffL).device()).isSameAs(bar);
        assertThatThrownBy(() -> bus.move(0xd000_0000L, 0xc000_2800L)).isInstanceOf(BusConflictException.class);
        assertThat(bus.lookup(0xd000_0000L).device()).isSameAs(bar);
    }

    @Test
    void rangesThatWrapTheAddressSpaceAreRejected() {
        Bus bus = new Bus("mmio");
        assertThatThrownBy(() -> bus.register(Long.MAX_VALUE - 2, 16, "wrap", new Recorder())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bus.register(0x10, 0, "empty", new Recorder())).isInstanceOf(IllegalArgumentException.class);
    }
}
