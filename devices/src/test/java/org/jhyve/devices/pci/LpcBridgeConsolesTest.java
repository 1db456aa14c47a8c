package org.jhyve.devices.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.devices.uart.SerialConsole;
import org.jhyve.pci.PciAddress;
import org.jhyve.testing.TestMachine;
import org.jhyve.vm.DeviceConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** COM ports given to the catalog as specs (a program's streams) and as {@code -l} strings. */
@Timeout(30)
class LpcBridgeConsolesTest {
    private static final int COM1 = 0x3f8, COM2 = 0x2f8, LSR = 5;

    private static LpcBridge lpc(DeviceCatalog catalog, TestMachine machine) {
        return (LpcBridge) catalog.find("lpc").orElseThrow().create(machine, new PciAddress(0, 31, 0), "");
    }

    @Test
    void aConsoleGivenAsStreamsServesItsPortAtTheStandardAddress() throws Exception {
        SerialConsole com2 = new SerialConsole();
        TestMachine machine = new TestMachine();
        LpcBridge lpc = lpc(DeviceCatalog.withConsoles(Map.of("com2", com2.spec())), machine);
        assertThat(lpc.ports()).singleElement().satisfies(p -> assertThat(p.backend().describe()).isEqualTo("java streams"));

        for (char c : "ok\n".toCharArray()) machine.ioPorts().write(COM2, 1, c);
        assertThat(new String(com2.output().readNBytes(3))).isEqualTo("ok\n");

        com2.input().write('k');
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while ((machine.ioPorts().read(COM2 + LSR, 1) & 1) == 0 && System.nanoTime() < deadline) Thread.sleep(1);
        assertThat(machine.ioPorts().read(COM2, 1)).isEqualTo('k');
        assertThat(machine.ioPorts().read(COM1 + LSR, 1)).as("COM1 absent: all-ones").isEqualTo(0xff);

        lpc.close();
        assertThat(com2.output().read()).as("closing the device ends the output").isEqualTo(-1);
    }

    @Test
    void specStringsFailAsTheyDidWhenTheDeviceIsCreated() {
        DeviceCatalog catalog = DeviceCatalog.standard(Map.of("com1", "stdoi")); // not yet: the catalog only holds it
        assertThatThrownBy(() -> lpc(catalog, new TestMachine())).isInstanceOf(DeviceConfigException.class)
                .hasMessage("com1: unknown serial backend 'stdoi' (stdio, autopty, tcp=IP:PORT or a path)");
        assertThatThrownBy(() -> lpc(DeviceCatalog.standard(Map.of("com5", "stdoi")), new TestMachine()))
                .isInstanceOf(DeviceConfigException.class).hasMessage("lpc: unknown device com5 (com1, com2, com3 or com4)");
    }

    @Test
    void unknownPortsAreRefusedForSpecsToo() {
        SerialConsole console = new SerialConsole();
        assertThatThrownBy(() -> lpc(DeviceCatalog.withConsoles(Map.of("com5", console.spec())), new TestMachine()))
                .isInstanceOf(DeviceConfigException.class).hasMessage("lpc: unknown device com5 (com1, com2, com3 or com4)");
    }
}
