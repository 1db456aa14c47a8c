package org.jhyve.devices.platform;

import static org.assertj.core.api.Assertions.assertThat;

import org.jhyve.testing.TestMachine;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VmOutcome;
import org.junit.jupiter.api.Test;

class KeyboardControllerResetTest {
    @Test
    void pulseResetCommandResetsTheMachineAndOtherCommandsDoNot() {
        TestMachine machine = new TestMachine();
        new KeyboardControllerReset().install(machine);
        machine.ioPorts().write(0x64, 1, 0xad); // disable keyboard: ignored
        assertThat(machine.exitRequests()).isEmpty();
        assertThat(machine.ioPorts().read(0x64, 1)).as("status: both buffers empty").isZero();
        machine.ioPorts().write(0x64, 1, 0xfe);
        assertThat(machine.exitRequests()).extracting(VmOutcome::status).containsExactly(ExitStatus.RESET);
    }
}
