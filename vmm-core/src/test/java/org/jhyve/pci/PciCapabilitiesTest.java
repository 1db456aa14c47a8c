package org.jhyve.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.bus.Bus;
import org.junit.jupiter.api.Test;

/** The capability list and MSI-X capability that PciFunction builds for devices. */
class PciCapabilitiesTest {
    static final class Device extends PciFunction {
        final MsixTable msix;
        final List<Long> mapped = new ArrayList<>();

        Device(List<String> sent) {
            super("test", 0x1234, 0x5678, 0x018000, 1);
            addCapability(0x09, 16);
            msix = new MsixTable(2, (a, d) -> sent.add(a + "/" + d));
            addBar(new PciBar(0, PciBar.Kind.MEMORY32, 0x1000, false, new org.jhyve.bus.BusDevice() {
                @Override public long read(long offset, int size) { return 0; }
                @Override public void write(long offset, int size, long value) {}
            }));
            addMsix(msix, 0, 0x800, 0xc00);
        }

        @Override
        protected void barMapped(int index, long address) {
            mapped.add(address);
        }
    }

    final List<String> sent = new ArrayList<>();
    final Device device = new Device(sent);

    @Test
    void capabilitiesAreChainedFromThePointerAndTheStatusBitIsSet() {
        assertThat(device.configRead(PciFunction.STATUS, 2) & PciFunction.STATUS_CAPABILITIES).isNotZero();
        int first = device.configRead(PciFunction.CAPABILITIES_POINTER, 1);
        assertThat(first).isEqualTo(0x40);
        assertThat(device.configRead(first, 1)).isEqualTo(0x09);
        int second = device.configRead(first + 1, 1);
        assertThat(second).isEqualTo(0x50);
        assertThat(device.configRead(second, 1)).isEqualTo(0x11);
        assertThat(device.configRead(second + 1, 1)).as("end of list").isZero();
        assertThat(device.configRead(second + 2, 2)).as("table size - 1").isEqualTo(1);
        assertThat(device.configRead(second + 4, 4)).isEqualTo(0x800);
        assertThat(device.configRead(second + 8, 4)).isEqualTo(0xc00);
    }

    @Test
    void theGuestTurnsMsixOnThroughConfigSpaceButCannotChangeItsShape() {
        int cap = 0x50;
        device.configWrite(cap + 2, 2, 0xffff);
        assertThat(device.configRead(cap + 2, 2)).isEqualTo(0xc001);
        assertThat(device.msix.enabled()).isTrue();
        device.configWrite(cap + 4, 4, 0);
        assertThat(device.configRead(cap + 4, 4)).as("table offset is read-only").isEqualTo(0x800);
        device.configWrite(cap + 2, 2, 0x8000);
        device.msix.writeTable(0, 8, 0xfee0_0000L);
        device.msix.writeTable(12, 4, 0);
        device.msix.signal(0);
        assertThat(sent).containsExactly(0xfee0_0000L + "/0");
    }

    @Test
    void barMovesAreReportedToTheDevice() {
        new PciBus(new Bus("io"), new Bus("mmio")).add(new PciAddress(0, 3, 0), device);
        device.configWrite(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY);
        long assigned = device.barAddress(0);
        device.configWrite(PciFunction.BAR0, 4, 0xd000_0000);
        device.configWrite(PciFunction.COMMAND, 2, 0);
        assertThat(device.mapped).containsSubsequence(assigned, 0xd000_0000L, -1L);
    }
}
