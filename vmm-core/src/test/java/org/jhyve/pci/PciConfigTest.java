package org.jhyve.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.bus.Bus;
import org.jhyve.bus.BusDevice;
import org.jhyve.memory.MemoryLayout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** PCI configuration mechanism #1 and the type-0 header's rules, driven through ports 0xCF8/0xCFC as a guest does. */
class PciConfigTest {
    private static final BusDevice NOTHING = new BusDevice() {
        @Override public long read(long offset, int size) { return 0x5a; }

        @Override public void write(long offset, int size, long value) { }
    };

    /** A function with a 4 KiB MMIO BAR0, a 32-byte IO BAR1 and a 64-bit BAR2. */
    static final class TestFunction extends PciFunction {
        TestFunction() {
            super("test", 0x1af4, 0x1042, 0x018000, 1);
            addBar(new PciBar(0, PciBar.Kind.MEMORY32, 0x1000, false, NOTHING));
            addBar(new PciBar(1, PciBar.Kind.IO, 0x20, false, NOTHING));
            addBar(new PciBar(2, PciBar.Kind.MEMORY64, 0x4000, true, NOTHING));
            setConfig8(INTERRUPT_PIN, 1);
        }
    }

    static final class Bridge extends PciFunction {
        Bridge() {
            super("bridge", 0x1275, 0x1275, 0x060000, 0);
        }
    }

    private Bus io;
    private Bus mmio;
    private PciBus pci;
    private final AtomicInteger resets = new AtomicInteger();

    @BeforeEach
    void setUp() {
        io = new Bus("port-io");
        mmio = new Bus("mmio");
        pci = new PciBus(io, mmio);
        io.register(PciConfigPorts.BASE, PciConfigPorts.LENGTH, "pci-config", new PciConfigPorts(pci, resets::incrementAndGet));
    }

    private static int address(int bus, int slot, int fn, int reg) {
        return 0x8000_0000 | bus << 16 | slot << 11 | fn << 8 | reg;
    }

    private long cfgRead(int slot, int fn, int reg, int size) {
        io.write(0xcf8, 4, address(0, slot, fn, reg & 0xfc));
        return io.read(0xcfc + (reg & 3), size);
    }

    private void cfgWrite(int slot, int fn, int reg, int size, long value) {
        io.write(0xcf8, 4, address(0, slot, fn, reg & 0xfc));
        io.write(0xcfc + (reg & 3), size, value);
    }

    @Test
    void readsIdsAndClassThroughMechanismOne() {
        pci.add(new PciAddress(0, 0, 0), new Bridge());
        assertThat(cfgRead(0, 0, 0, 4)).isEqualTo(0x1275_1275L);
        assertThat(cfgRead(0, 0, 0x08, 4)).isEqualTo(0x0600_0000L);
        assertThat(cfgRead(0, 0, 0x02, 2)).isEqualTo(0x1275);
        assertThat(cfgRead(0, 0, 0x0b, 1)).isEqualTo(0x06);
        assertThat(io.read(0xcf8, 4)).isEqualTo(address(0, 0, 0, 0x08) & 0xffffffffL);
    }

    @Test
    void emptySlotsAndFunctionsReadAllOnes() {
        pci.add(new PciAddress(0, 0, 0), new Bridge());
        assertThat(cfgRead(5, 0, 0, 4)).isEqualTo(0xffff_ffffL);
        assertThat(cfgRead(0, 3, 0, 2)).isEqualTo(0xffff);
        io.write(0xcf8, 4, 0x0000_0000); // enable bit clear: no config cycle
        assertThat(io.read(0xcfc, 4)).isEqualTo(0xffff_ffffL);
    }

    @Test
    void functionsBehindAMissingFunctionZeroAreInvisibleAndSiblingsSetMultifunction() {
        pci.add(new PciAddress(0, 4, 1), new Bridge());
        assertThat(cfgRead(4, 1, 0, 4)).isEqualTo(0xffff_ffffL);
        pci.add(new PciAddress(0, 4, 0), new Bridge());
        assertThat(cfgRead(4, 1, 0, 4)).isEqualTo(0x1275_1275L);
        assertThat(cfgRead(4, 0, 0x0e, 1) & 0x80).isEqualTo(0x80);
        assertThat(cfgRead(4, 1, 0x0e, 1) & 0x80).isZero();
    }

    @Test
    void readOnlyFieldsIgnoreWritesAndStatusIsWriteOneToClear() {
        Bridge b = new Bridge();
        pci.add(new PciAddress(0, 0, 0), b);
        cfgWrite(0, 0, 0, 4, 0xdead_beefL);
        assertThat(cfgRead(0, 0, 0, 4)).isEqualTo(0x1275_1275L);
        cfgWrite(0, 0, 0x3c, 1, 0x0b);
        assertThat(cfgRead(0, 0, 0x3c, 1)).isEqualTo(0x0b);
        cfgWrite(0, 0, 0x04, 2, 0xffff);
        assertThat(cfgRead(0, 0, 0x04, 2)).isEqualTo(0x0547);
    }

    @Test
    void barsAreAssignedSizedAndMovedOnTheBus() {
        TestFunction f = new TestFunction();
        pci.add(new PciAddress(0, 3, 0), f);
        long bar0 = cfgRead(3, 0, 0x10, 4);
        assertThat(bar0).isEqualTo(MemoryLayout.PCI_MMIO32_BASE);
        assertThat(mmio.lookup(bar0).name()).isEqualTo("test BAR0");
        assertThat(cfgRead(3, 0, 0x14, 4) & 0x3).isEqualTo(0x1);
        assertThat(io.lookup(cfgRead(3, 0, 0x14, 4) & ~3L)).isNotNull();
        assertThat(cfgRead(3, 0, 0x18, 4) & 0xf).isEqualTo(0xc); // 64-bit, prefetchable

        // Sizing as a driver does: decoding off, write all-ones, read the mask back.
        cfgWrite(3, 0, 0x04, 2, 0);
        assertThat(mmio.lookup(bar0)).isNull();
        cfgWrite(3, 0, 0x10, 4, 0xffff_ffffL);
        assertThat(cfgRead(3, 0, 0x10, 4)).isEqualTo(0xffff_f000L);
        cfgWrite(3, 0, 0x14, 4, 0xffff_ffffL);
        assertThat(cfgRead(3, 0, 0x14, 4)).isEqualTo(0xffff_ffe1L);
        cfgWrite(3, 0, 0x1c, 4, 0xffff_ffffL);
        assertThat(cfgRead(3, 0, 0x1c, 4)).isEqualTo(0xffff_ffffL);

        // Reprogram BAR0 elsewhere and turn memory decoding back on.
        cfgWrite(3, 0, 0x10, 4, 0xd000_0000L);
        cfgWrite(3, 0, 0x04, 2, PciFunction.COMMAND_MEMORY);
        assertThat(mmio.lookup(0xd000_0000L).name()).isEqualTo("test BAR0");
        assertThat(mmio.lookup(MemoryLayout.PCI_MMIO32_BASE)).isNull();
    }

    @Test
    void aBarMovedOntoAnotherDeviceStaysUnmappedInsteadOfCrashing() {
        mmio.register(0xd000_0000L, 0x1000, "occupant", NOTHING);
        pci.add(new PciAddress(0, 3, 0), new TestFunction());
        cfgWrite(3, 0, 0x10, 4, 0xd000_0000L);
        assertThat(mmio.lookup(0xd000_0000L).name()).isEqualTo("occupant");
    }

    @Test
    void port0xCf9ByteWriteWithResetBitAsksForReset() {
        io.write(0xcf9, 1, 0x02);
        assertThat(resets).hasValue(0);
        io.write(0xcf9, 1, 0x06);
        assertThat(resets).hasValue(1);
        assertThat(io.read(0xcf9, 1)).isEqualTo(0x06);
    }
}
