package org.jhyve.devices.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.jhyve.bus.Bus;
import org.jhyve.hv.Doorbell;
import org.jhyve.irq.IrqLine;
import org.jhyve.irq.MsiSink;
import org.jhyve.memory.GuestMemory;
import org.jhyve.pci.PciBus;
import org.jhyve.testing.TestMachine;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PowerButton;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class QemuFwCfgTest {
    private TestMachine machine;

    private static final int VCPUS = 3;

    @BeforeEach
    void install() {
        machine = new TestMachine(32L << 20);
        new QemuFwCfg().install(withVcpus(machine, VCPUS));
    }

    /** {@code machine} as a machine of {@code vcpus} vCPUs (TestMachine has one), so the count read back is the machine's. */
    private static MachineContext withVcpus(TestMachine machine, int vcpus) {
        return new MachineContext() {
            @Override public GuestMemory memory() { return machine.memory(); }
            @Override public Bus ioPorts() { return machine.ioPorts(); }
            @Override public Bus mmio() { return machine.mmio(); }
            @Override public PciBus pci() { return machine.pci(); }
            @Override public IrqLine irq(int gsi) { return machine.irq(gsi); }
            @Override public MsiSink msi() { return machine.msi(); }
            @Override public Doorbell newDoorbell() { return machine.newDoorbell(); }
            @Override public Optional<AutoCloseable> bindDoorbell(Doorbell d, long address, int length) { return machine.bindDoorbell(d, address, length); }
            @Override public int vcpuCount() { return vcpus; }
            @Override public void requestExit(ExitStatus status, String reason) { machine.requestExit(status, reason); }
            @Override public void installPowerButton(PowerButton button) { machine.installPowerButton(button); }
            @Override public void closeOnExit(AutoCloseable resource) { machine.closeOnExit(resource); }
        };
    }

    /** What kvm-unit-tests' fwcfg_get_u does: select with a 16-bit write, then read the bytes one by one. */
    private long item(int key, int bytes) {
        machine.ioPorts().write(0x510, 2, key);
        long value = 0;
        for (int i = 0; i < bytes; i++) value |= machine.ioPorts().read(0x511, 1) << (8 * i);
        return value;
    }

    @Test
    void theSignatureSaysQemu() {
        machine.ioPorts().write(0x510, 2, 0);
        byte[] signature = new byte[4];
        for (int i = 0; i < 4; i++) signature[i] = (byte) machine.ioPorts().read(0x511, 1);
        assertThat(new String(signature, StandardCharsets.US_ASCII)).isEqualTo("QEMU");
    }

    @Test
    void theCpuCountAndRamSizeAreTheMachines() {
        assertThat(item(0x05, 2)).isEqualTo(VCPUS);
        assertThat(item(0x03, 8)).isEqualTo(32L << 20);
        assertThat(item(0x01, 4)).as("traditional interface, no DMA").isEqualTo(1);
    }

    @Test
    void selectingAgainStartsTheItemOverAndUnknownItemsOrBytesPastTheEndReadZero() {
        assertThat(item(0x05, 1)).isEqualTo(VCPUS);
        assertThat(item(0x05, 4)).as("two bytes, then zeros").isEqualTo(VCPUS);
        assertThat(item(0x11, 8)).isZero();
        machine.ioPorts().write(0x511, 1, 0x42); // ignored
        assertThat(item(0x05, 2)).isEqualTo(VCPUS);
    }
}
