package org.jhyve.devices.platform;

import static org.assertj.core.api.Assertions.assertThat;

import org.jhyve.testing.TestMachine;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VmOutcome;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AcpiPowerManagementTest {
    private TestMachine machine;

    @BeforeEach
    void setUp() {
        machine = new TestMachine();
        new AcpiPowerManagement().install(machine);
    }

    @Test
    void s5SleepWithSlpEnPowersOff() {
        machine.ioPorts().write(0x404, 2, 0x3400);
        assertThat(machine.exitRequests()).extracting(VmOutcome::status).containsExactly(ExitStatus.POWER_OFF);
    }

    @Test
    void otherSleepTypesOrNoSlpEnDoNotPowerOff() {
        machine.ioPorts().write(0x404, 2, 5 << 10); // S5 type without SLP_EN: only selects the type
        machine.ioPorts().write(0x404, 2, 1 << 13 | 1 << 10); // S1 with SLP_EN: not soft-off
        assertThat(machine.exitRequests()).isEmpty();
        assertThat(machine.ioPorts().read(0x404, 2) & (1 << 13)).as("SLP_EN reads as zero").isZero();
    }

    @Test
    void powerButtonRaisesTheSciOnlyOnceTheGuestEnabledIt() {
        assertThat(machine.pressPowerButton()).as("no ACPI driver listening yet").isFalse();
        assertThat(machine.irqLevel(9)).isFalse();
        assertThat(machine.ioPorts().read(0x400, 2) & 0x100).as("PWRBTN_STS latched").isEqualTo(0x100);
        machine.ioPorts().write(0x400, 2, 0x100); // the driver clears stale status...
        machine.ioPorts().write(0x402, 2, 0x100); // ...and enables the power button event
        assertThat(machine.pressPowerButton()).isTrue();
        assertThat(machine.irqLevel(9)).isTrue();
        machine.ioPorts().write(0x400, 2, 0x100); // handled: write-one-to-clear
        assertThat(machine.irqLevel(9)).isFalse();
        assertThat(machine.ioPorts().read(0x400, 2) & 0x100).isZero();
    }

    @Test
    void acpiModeIsOnFromReset() {
        assertThat(machine.ioPorts().read(0x404, 2) & 1).as("SCI_EN").isEqualTo(1);
    }

    @Test
    void sciEnableAndEnableRegisterReadBack() {
        machine.ioPorts().write(0x404, 2, 1);
        machine.ioPorts().write(0x402, 2, 0x0120);
        assertThat(machine.ioPorts().read(0x404, 2)).isEqualTo(1);
        assertThat(machine.ioPorts().read(0x402, 2)).isEqualTo(0x0120);
        assertThat(machine.ioPorts().read(0x400, 4)).isEqualTo(0x0120_0000L);
    }

    @Test
    void pmTimerAdvancesAtAboutThreePointFiveMegahertzIn24Bits() throws InterruptedException {
        long first = machine.ioPorts().read(0x408, 4);
        Thread.sleep(20);
        long second = machine.ioPorts().read(0x408, 4);
        long ticks = (second - first) & 0xffffff;
        assertThat(second).isLessThanOrEqualTo(0xffffff);
        // 20 ms at 3.579545 MHz is ~71,600 ticks; allow for a slow scheduler.
        assertThat(ticks).isBetween(60_000L, 2_000_000L);
    }
}
