package org.jhyve.devices.pci;

import static org.assertj.core.api.Assertions.assertThat;

import org.jhyve.pci.PciAddress;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.Test;

class HostbridgeTest {
    @Test
    void answersWithBhyveIdsAndHostBridgeClassThroughPorts() {
        TestMachine machine = new TestMachine();
        machine.ioPorts().register(0xcf8, 8, "pci-config", new org.jhyve.pci.PciConfigPorts(machine.pci(), () -> { }));
        machine.pci().add(new PciAddress(0, 0, 0), new Hostbridge());
        machine.ioPorts().write(0xcf8, 4, 0x8000_0000L);
        assertThat(machine.ioPorts().read(0xcfc, 4)).isEqualTo(0x1275_1275L);
        machine.ioPorts().write(0xcf8, 4, 0x8000_0008L);
        assertThat(machine.ioPorts().read(0xcfc, 4) >>> 8).isEqualTo(0x060000L);
    }

    @Test
    void amdFlavourHasAmdIds() {
        assertThat(Hostbridge.amd().configRead(0, 4)).isEqualTo(0x7432_1022);
    }
}
