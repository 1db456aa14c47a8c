package org.jhyve.devices.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jhyve.testing.TestMachine;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VmOutcome;
import org.junit.jupiter.api.Test;

class IsaDebugExitTest {
    @Test
    void aWriteEndsTheVmWithQemusStatusTheValueShiftedLeftWithTheLowBitSet() {
        TestMachine machine = new TestMachine();
        IsaDebugExit.forKvmUnitTests().install(machine);
        machine.ioPorts().write(0xf4, 4, 0); // kvm-unit-tests' exit(0): QEMU exits 1
        machine.ioPorts().write(0xf6, 1, 0x7f);
        assertThat(machine.exitRequests()).extracting(VmOutcome::exitCode).containsExactly(1, 0xff);
        assertThat(machine.exitRequests()).extracting(VmOutcome::status).containsOnly(ExitStatus.POWER_OFF);
        assertThat(machine.exitRequests().getFirst().reason()).contains("isa-debug-exit").contains("0xf4");
    }

    @Test
    void theStatusKeepsTheLowEightBitsAsTheHostsExitDoes() {
        assertThat(IsaDebugExit.exitStatus(1)).isEqualTo(3);
        assertThat(IsaDebugExit.exitStatus(0x80)).isEqualTo(1);
        assertThat(IsaDebugExit.exitStatus(0xffff_ffffL)).isEqualTo(0xff);
    }

    @Test
    void onlyItsOwnPortsEndTheVm() {
        TestMachine machine = new TestMachine();
        new IsaDebugExit(0x501, 2).install(machine);
        machine.ioPorts().write(0x503, 1, 5);
        machine.ioPorts().write(0x500, 1, 5);
        assertThat(machine.exitRequests()).isEmpty();
        assertThat(machine.ioPorts().read(0x501, 1)).isZero();
        machine.ioPorts().write(0x502, 1, 2);
        assertThat(machine.exitRequests()).extracting(VmOutcome::exitCode).containsExactly(5);
    }

    @Test
    void portRangesThatAreNotPortsAreRefused() {
        assertThatThrownBy(() -> new IsaDebugExit(0xfffe, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new IsaDebugExit(0xf4, 3)).isInstanceOf(IllegalArgumentException.class);
    }
}
