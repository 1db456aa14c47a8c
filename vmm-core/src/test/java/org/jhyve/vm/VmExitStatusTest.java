package org.jhyve.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import org.jhyve.hv.Registers;
import org.jhyve.hv.VmExit;
import org.jhyve.testing.FakeHypervisor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How each way a guest can end maps to bhyve's exit status, on scripted exits (no KVM needed): 0 reset,
 * 1 power-off, 2 halt, 3 triple fault, 4 jhyve's own error.
 */
@Timeout(20)
class VmExitStatusTest {
    private static final long RFLAGS_IF = 1L << 9;

    final FakeHypervisor hypervisor = new FakeHypervisor();

    VmBuilder machine(int vcpus) {
        return VmBuilder.on(hypervisor).memory(1L << 20).vcpus(vcpus).boot(FakeHypervisor.NOTHING);
    }

    /** Runs a one-vCPU VM whose vCPU returns {@code exits}, then spins, and returns how it ended. */
    VmOutcome outcomeOf(VmBuilder builder, VmExit... exits) throws InterruptedException {
        try (VirtualMachine vm = builder.build()) {
            hypervisor.vcpu(0).script(exits);
            vm.start();
            VmOutcome outcome = vm.await(Duration.ofSeconds(10));
            assertThat(outcome).as("the VM ended").isNotNull();
            return outcome;
        }
    }

    VmOutcome outcomeOf(VmExit... exits) throws InterruptedException {
        return outcomeOf(machine(1), exits);
    }

    static VmExit.PortIo outByte(int port, int value) {
        return new VmExit.PortIo(port, 1, 1, true, MemorySegment.ofArray(new byte[] {(byte) value}));
    }

    @Test
    void theCodesAreBhyves() {
        assertThat(ExitStatus.values()).extracting(ExitStatus::code).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void aResetSystemEventIsStatusZero() throws Exception {
        VmOutcome outcome = outcomeOf(new VmExit.SystemEvent(VmExit.SystemEvent.Kind.RESET, 0));
        assertThat(outcome.status()).isEqualTo(ExitStatus.RESET);
        assertThat(outcome.status().code()).isZero();
    }

    @Test
    void aResetThroughPortCf9IsStatusZero() throws Exception {
        VmOutcome outcome = outcomeOf(outByte(0xcf9, 0x6));
        assertThat(outcome).isEqualTo(new VmOutcome(ExitStatus.RESET, "reset through port 0xcf9"));
    }

    @Test
    void aShutdownSystemEventIsAPowerOffStatusOne() throws Exception {
        VmOutcome outcome = outcomeOf(new VmExit.SystemEvent(VmExit.SystemEvent.Kind.SHUTDOWN, 0));
        assertThat(outcome).isEqualTo(new VmOutcome(ExitStatus.POWER_OFF, "system event SHUTDOWN"));
        assertThat(outcome.status().code()).isEqualTo(1);
    }

    @Test
    void aHaltExitIsStatusTwo() throws Exception {
        VmOutcome outcome = outcomeOf(new VmExit.Halt());
        assertThat(outcome).isEqualTo(new VmOutcome(ExitStatus.HALT, "vCPU 0 halted"));
        assertThat(outcome.status().code()).isEqualTo(2);
    }

    @Test
    void everyVcpuHaltedWithInterruptsDisabledIsStatusTwo() throws Exception {
        try (VirtualMachine vm = machine(2).build()) {
            hypervisor.vm().vcpus().forEach(v -> v.setParked(true)); // the boot state and vCPU 1 have IF clear
            vm.start();
            VmOutcome outcome = vm.await(Duration.ofSeconds(10));
            assertThat(outcome).isEqualTo(new VmOutcome(ExitStatus.HALT, "every vCPU halted with interrupts disabled"));
        }
    }

    @Test
    void aVcpuHaltedWithInterruptsEnabledCanWakeUpSoTheVmRunsOn() throws Exception {
        try (VirtualMachine vm = machine(2).build()) {
            hypervisor.vm().vcpus().forEach(v -> v.setParked(true));
            Registers r = Registers.initial(0x2000);
            hypervisor.vcpu(1).setRegisters(new Registers(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, r.rip(),
                    r.rflags() | RFLAGS_IF));
            vm.start();
            assertThat(vm.await(Duration.ofMillis(2500))).as("two probes of the halt detector later").isNull();
            assertThat(hypervisor.vcpu(1).kicks()).as("the halt detector probed").isPositive();
            vm.stop();
            assertThat(vm.await(Duration.ofSeconds(10)).status()).isEqualTo(ExitStatus.POWER_OFF);
        }
    }

    @Test
    void aTripleFaultIsStatusThreeAndSaysWhereTheVcpuWas() throws Exception {
        VmOutcome outcome = outcomeOf(new VmExit.Shutdown());
        assertThat(outcome.status()).isEqualTo(ExitStatus.TRIPLE_FAULT);
        assertThat(outcome.status().code()).isEqualTo(3);
        assertThat(outcome.reason()).startsWith("triple fault: vCPU 0 in 64-bit mode at RIP 0x1000");
    }

    @Test
    void exitsJhyveCannotHandleAreStatusFour() throws Exception {
        assertError(outcomeOf(new VmExit.InternalError(3, new long[0], new byte[0])), "hypervisor internal error 3");
        assertError(outcomeOf(new VmExit.FailEntry(0x21)), "VM entry failed (hardware reason 0x21)");
        assertError(outcomeOf(new VmExit.Unknown(99, "mystery")), "unhandled exit mystery (99)");
        assertError(outcomeOf(new VmExit.Debug(0x1000, 1, 0, 0)), "unexpected debug exit (exception 1) at RIP 0x1000");
        assertError(outcomeOf(new VmExit.SystemEvent(VmExit.SystemEvent.Kind.CRASH, 0)), "system event CRASH");
    }

    @Test
    void anUnclaimedPortIsStatusFourOnlyWithExitOnUnhandledIo() throws Exception {
        VmOutcome outcome = outcomeOf(machine(1).exitOnUnhandledIo(true), outByte(0x510, 1));
        assertError(outcome, "unhandled port-io write of 1 bytes at 0x510 (-e: exit on unhandled I/O)");

        VmOutcome dropped = outcomeOf(machine(1), outByte(0x510, 1), new VmExit.SystemEvent(VmExit.SystemEvent.Kind.SHUTDOWN, 0));
        assertThat(dropped.status()).as("without -e the write is dropped and the guest runs on").isEqualTo(ExitStatus.POWER_OFF);
    }

    @Test
    void theFirstReasonWins() throws Exception {
        try (VirtualMachine vm = machine(1).build()) {
            hypervisor.vcpu(0).script(new VmExit.Halt());
            vm.start();
            VmOutcome outcome = vm.await(Duration.ofSeconds(10));
            vm.stop();
            assertThat(vm.outcome()).isSameAs(outcome);
            assertThat(outcome.status()).isEqualTo(ExitStatus.HALT);
        }
    }

    private static void assertError(VmOutcome outcome, String reason) {
        assertThat(outcome.status()).isEqualTo(ExitStatus.ERROR);
        assertThat(outcome.status().code()).isEqualTo(4);
        assertThat(outcome.reason()).contains(reason);
    }
}
