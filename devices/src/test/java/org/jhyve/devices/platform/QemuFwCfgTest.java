package org.jhyve.devices.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class QemuFwCfgTest {
    private TestMachine machine;

    @BeforeEach
    void install() {
        machine = new TestMachine(32L << 20);
        new QemuFwCfg().install(machine);
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
        assertThat(item(0x05, 2)).isEqualTo(machine.vcpuCount());
        assertThat(item(0x03, 8)).isEqualTo(32L << 20);
        assertThat(item(0x01, 4)).as("traditional interface, no DMA").isEqualTo(1);
    }

    @Test
    void selectingAgainStartsTheItemOverAndUnknownItemsOrBytesPastTheEndReadZero() {
        assertThat(item(0x05, 1)).isEqualTo(machine.vcpuCount());
        assertThat(item(0x05, 4)).as("two bytes, then zeros").isEqualTo(machine.vcpuCount());
        assertThat(item(0x11, 8)).isZero();
        machine.ioPorts().write(0x511, 1, 0x42); // ignored
        assertThat(item(0x05, 2)).isEqualTo(machine.vcpuCount());
    }
}
