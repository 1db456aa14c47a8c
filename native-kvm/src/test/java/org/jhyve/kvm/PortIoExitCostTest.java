package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.kvm.Guests.DONE_PORT;
import static org.jhyve.kvm.Guests.MIB;
import static org.jhyve.kvm.Guests.bytes;

import org.jhyve.hv.VmExit;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Measures (does not assert) the round trip of one port-I/O exit through KVM_RUN and back, in Java. */
class PortIoExitCostTest {
    private static final int WARMUP = 20_000;
    private static final int EXITS = 100_000;

    @BeforeEach // per test, so that each test is reported skipped, with the reason, where KVM is missing
    void kvm() {
        Guests.assumeKvm();
    }

    @Test
    void portIoExitRoundTrip() {
        try (KvmHypervisor kvm = KvmHypervisor.open(); KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1));
             KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(0xe6, DONE_PORT, 0xeb, 0xfc)); // again: out 0xf4, al; jmp again
            loop(cpu, WARMUP);
            long start = System.nanoTime();
            loop(cpu, EXITS);
            long ns = System.nanoTime() - start;
            System.out.printf("port-IO exit round trip: %d ns/exit over %d exits%n", ns / EXITS, EXITS);
        }
    }

    private static void loop(KvmVcpu cpu, int n) {
        for (int i = 0; i < n; i++) {
            VmExit exit = cpu.run();
            if (!(exit instanceof VmExit.PortIo io) || io.port() != DONE_PORT) {
                assertThat(exit).as("exit %d", i).isInstanceOf(VmExit.PortIo.class);
            }
        }
    }
}
