package org.jhyve.devices.platform;

import static org.assertj.core.api.Assertions.assertThat;

import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PcTestdevTest {
    private TestMachine machine;

    @BeforeEach
    void install() {
        machine = new TestMachine();
        new PcTestdev().install(machine);
    }

    @Test
    void thePortAt0xe0ReadsBackWhatWasWrittenAtEveryWidthAndOffset() {
        machine.ioPorts().write(0xe0, 4, 0x11223344);
        assertThat(machine.ioPorts().read(0xe0, 4)).isEqualTo(0x11223344L);
        machine.ioPorts().write(0xe0, 1, 0xaa); // replaces the low byte only
        assertThat(machine.ioPorts().read(0xe0, 4)).isEqualTo(0x112233aaL);
        machine.ioPorts().write(0xe2, 2, 0xbeef);
        assertThat(machine.ioPorts().read(0xe0, 4)).isEqualTo(0xbeef33aaL);
        assertThat(machine.ioPorts().read(0xe1, 1)).isEqualTo(0x33);
        assertThat(machine.ioPorts().read(0xe0, 2)).isEqualTo(0x33aa);
    }

    @Test
    void theBytePortAt0xe8IsTheSameRegister() {
        machine.ioPorts().write(0xe8, 4, 0xcafef00dL);
        assertThat(machine.ioPorts().read(0xe0, 4)).isEqualTo(0xcafef00dL);
        assertThat(machine.ioPorts().read(0xeb, 1)).isEqualTo(0xca);
    }

    @Test
    void eachIrqPortDrivesItsLineLevel() {
        machine.ioPorts().write(0x2000 + 14, 1, 1);
        assertThat(machine.irqLevel(14)).isTrue();
        machine.ioPorts().write(0x2000 + 14, 1, 0);
        machine.ioPorts().write(0x2000 + 23, 1, 5);
        assertThat(machine.irqEvents()).containsExactly("14+", "14-", "23+");
    }

    @Test
    void theFlushPortAcceptsAddressesAndChangesNothingTheGuestSees() {
        machine.memory().writeLong(0x3000, 0x1234);
        machine.ioPorts().write(0xe4, 4, 0x3000);
        assertThat(machine.memory().readLong(0x3000)).isEqualTo(0x1234);
        assertThat(machine.exitRequests()).isEmpty();
    }

    @Test
    void theIomemWindowIsMemoryAndAccessesPastItsEndAreContained() {
        machine.mmio().write(0xff000010L, 8, 0x0102030405060708L);
        assertThat(machine.mmio().read(0xff000010L, 8)).isEqualTo(0x0102030405060708L);
        assertThat(machine.mmio().read(0xff000013L, 1)).isEqualTo(0x05);
        machine.mmio().write(0xff00fffcL, 4, 0xdeadbeefL);
        assertThat(machine.mmio().read(0xff00fffcL, 4)).isEqualTo(0xdeadbeefL);
        // An access that would run past the window is the bus's to refuse or the device's to contain; either way no exception.
        machine.mmio().read(0xff00fffeL, 4);
        machine.mmio().write(0xff00fffeL, 4, 1);
    }
}
