package org.jhyve.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciFunction;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.Test;

/**
 * Unit tests of {@link CounterDevice} without KVM: {@link TestMachine} (in vmm-core's test-jar) is a machine
 * with real buses and a real PCI bus over guest memory on the Java heap. The test plays the guest: it does
 * configuration cycles and MMIO accesses as the guest's instructions would, and they reach the device
 * through the same bus code as in a running VM.
 */
class CounterDeviceTest {
    static final PciAddress SLOT_3 = new PciAddress(0, 3, 0);

    @Test
    void theGuestFindsItsIdsInConfigurationSpace() {
        TestMachine machine = new TestMachine();
        machine.pci().add(SLOT_3, new CounterDevice());

        // Register 0: device ID << 16 | vendor ID, as counter.s reads it through ports 0xCF8/0xCFC.
        assertThat(machine.pci().configRead(0, 3, 0, PciFunction.VENDOR_ID, 4)).isEqualTo(0x0c0c_1234);
        assertThat(machine.pci().configRead(0, 3, 0, 0x08, 4) >>> 8).as("class code").isEqualTo(CounterDevice.CLASS_OTHER);
        assertThat(machine.pci().configRead(0, 4, 0, PciFunction.VENDOR_ID, 4)).as("an empty slot").isEqualTo(-1);
    }

    @Test
    void writingValueMakesResultValuePlusOneAndEveryAccessCounts() {
        TestMachine machine = new TestMachine();
        CounterDevice counter = new CounterDevice();
        machine.pci().add(SLOT_3, counter);
        // Plugging in assigned BAR0 an address in the PCI hole and turned memory decoding on.
        long bar = counter.barAddress(0);
        assertThat(bar).isNotZero();

        machine.mmio().write(bar + CounterDevice.VALUE, 4, 41);
        assertThat(machine.mmio().read(bar + CounterDevice.RESULT, 4)).isEqualTo(42);
        assertThat(machine.mmio().read(bar + CounterDevice.ACCESSES, 4)).as("accesses before this read").isEqualTo(2);
        assertThat(counter.value()).isEqualTo(41);
        assertThat(counter.accesses()).isEqualTo(3);
    }

    @Test
    void theBarFollowsTheGuestWhenItIsSizedAndMoved() {
        TestMachine machine = new TestMachine();
        CounterDevice counter = new CounterDevice();
        machine.pci().add(SLOT_3, counter);
        long old = counter.barAddress(0);

        // BAR sizing as a guest's PCI scan does it: write all-ones, read back the size mask.
        machine.pci().configWrite(0, 3, 0, PciFunction.BAR0, 4, -1);
        assertThat(machine.pci().configRead(0, 3, 0, PciFunction.BAR0, 4)).isEqualTo(~(4096 - 1));

        // Then the guest places it; the device answers at the new address, and nothing is left at the old one.
        long moved = 0xd000_0000L;
        machine.pci().configWrite(0, 3, 0, PciFunction.BAR0, 4, (int) moved);
        machine.mmio().write(moved + CounterDevice.VALUE, 4, 7);
        assertThat(machine.mmio().read(moved + CounterDevice.RESULT, 4)).isEqualTo(8);
        assertThat(machine.mmio().read(old + CounterDevice.RESULT, 4)).as("unclaimed: all-ones").isEqualTo(0xffff_ffffL);
        assertThat(counter.accesses()).isEqualTo(2);
    }
}
