package org.jhyve.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class TraceFilterTest {
    private static final TraceEvent COM1_WRITE = new TraceEvent.BusAccess(TraceKind.PIO, 0x3f8, 1, true, 0x41, "com1");
    private static final TraceEvent BAR_READ = new TraceEvent.BusAccess(TraceKind.MMIO, 0xc000_0010L, 4, false, 0, "virtio-blk@0:4:0 BAR0");
    private static final TraceEvent PIO_EXIT = new TraceEvent.Exit("pio", 0x3f8);
    private static final TraceEvent HALT_EXIT = new TraceEvent.Exit("halt", TraceEvent.NO_ADDRESS);
    private static final TraceEvent IRQ = new TraceEvent.IrqLevel(4, true);

    @Test
    void kindsAloneOrWithTheirKeyMeanTheSame() {
        TraceFilter bare = TraceFilter.parse("pio,mmio");
        assertThat(bare).isEqualTo(TraceFilter.parse("kind=pio,mmio"));
        assertThat(bare.kinds()).containsExactlyInAnyOrder(TraceKind.PIO, TraceKind.MMIO);
        assertThat(bare.devices()).isEmpty();
        assertThat(bare.ranges()).isEmpty();
    }

    @Test
    void everyClauseTogether() {
        TraceFilter f = TraceFilter.parse("kind=pio,exit; device=com1,virtio-blk ;range=0x3f8-0x3ff,0xcf8,1016");
        assertThat(f.kinds()).isEqualTo(Set.of(TraceKind.PIO, TraceKind.EXIT));
        assertThat(f.devices()).containsExactly("com1", "virtio-blk");
        assertThat(f.ranges()).containsExactly(new AddressRange(0x3f8, 0x3ff), new AddressRange(0xcf8, 0xcf8), new AddressRange(1016, 1016));
        assertThat(f).hasToString("kind=exit,pio;device=com1,virtio-blk;range=0x3f8-0x3ff,0xcf8,0x3f8");
    }

    @Test
    void withoutKindsEveryKindIsSelected() {
        assertThat(TraceFilter.parse("device=com1").kinds()).isEqualTo(EnumSet.allOf(TraceKind.class));
        assertThat(TraceFilter.parse("range=0x3f8-0x3ff").kinds()).isEqualTo(EnumSet.allOf(TraceKind.class));
    }

    @Test
    void repeatedKeysAddUp() {
        assertThat(TraceFilter.parse("pio;kind=irq;device=a;device=b").kinds()).containsExactlyInAnyOrder(TraceKind.PIO, TraceKind.IRQ);
        assertThat(TraceFilter.parse("device=a;device=b").devices()).containsExactly("a", "b");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "pio,dma                  | unknown kind 'dma' (exit, pio, mmio, pci, virtq, irq)",
            "kind=                    | 'kind=' has an empty kind",
            "pio,,mmio                | 'pio,,mmio' has an empty kind",
            "pio;                     | empty clause (clauses are separated by ';')",
            "port=0x3f8               | unknown key 'port' (kind=, device=, range=)",
            "range=3f8-3ff            | '3f8-3ff' is not an address or range (e.g. 0x3f8-0x3ff)",
            "range=0x400-0x3f8        | range 0x400-0x3f8 ends before it starts",
            "range=0x3f8-             | '0x3f8-' is not an address or range (e.g. 0x3f8-0x3ff)",
            "device=                  | 'device=' has an empty device",
    })
    void badSpecsSayWhatIsWrongInOneLine(String spec, String message) {
        assertThatThrownBy(() -> TraceFilter.parse(spec)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void blankSpecIsRefused() {
        assertThatThrownBy(() -> TraceFilter.parse(" ")).hasMessage("empty filter (e.g. pio,mmio;range=0x3f8-0x3ff)");
    }

    @Test
    void kindsSelectLines() {
        TraceFilter f = TraceFilter.parse("pio");
        assertThat(f.keeps(COM1_WRITE)).isTrue();
        assertThat(f.keeps(BAR_READ)).isFalse();
        assertThat(f.keeps(PIO_EXIT)).isFalse();
    }

    @Test
    void aDeviceFilterMatchesSubstringsAndDropsLinesWithoutADevice() {
        TraceFilter f = TraceFilter.parse("device=virtio-blk");
        assertThat(f.keeps(BAR_READ)).isTrue();
        assertThat(f.keeps(COM1_WRITE)).isFalse();
        assertThat(f.keeps(PIO_EXIT)).isFalse();
        assertThat(f.keeps(IRQ)).isFalse();
        assertThat(f.keeps(new TraceEvent.VirtqueueChain(0, 1, 3, 529, "virtio-blk@0:4:0"))).isTrue();
    }

    @Test
    void aRangeFilterKeepsAccessesAndIoExitsInsideIt() {
        TraceFilter f = TraceFilter.parse("exit,pio,mmio;range=0x3f8-0x3ff");
        assertThat(f.keeps(COM1_WRITE)).isTrue();
        assertThat(f.keeps(PIO_EXIT)).isTrue();
        assertThat(f.keeps(new TraceEvent.Exit("pio", 0x3f7))).isFalse();
        assertThat(f.keeps(BAR_READ)).isFalse();
        assertThat(f.keeps(HALT_EXIT)).isFalse();
    }

    @Test
    void everythingKeepsEverything() {
        for (TraceEvent e : List.of(COM1_WRITE, BAR_READ, PIO_EXIT, HALT_EXIT, IRQ, new TraceEvent.Msi(0xfee0_0000L, 0x41))) {
            assertThat(TraceFilter.everything().keeps(e)).as(e.toString()).isTrue();
        }
    }
}
