package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.jhyve.firmware.KexecLoader;
import org.jhyve.kvm.KvmHypervisor;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VirtualMachine;
import org.jhyve.vm.VmBuilder;
import org.jhyve.vm.VmOutcome;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread of the jhyve process that dies from an exception ends the running VM with status 4 and a
 * reason naming the thread and the exception, instead of leaving the guest running without that thread.
 * The guest spins ({@code jmp $}), so only the failure can end it.
 */
@Timeout(60)
class UncaughtFailuresTest {
    @TempDir Path dir;

    @BeforeEach
    void kvm() {
        GuestImages.assumeKvm();
    }

    private static Thread dying(UncaughtFailures failures, String name) {
        Thread t = Thread.ofPlatform().name(name).unstarted(() -> { throw new IllegalStateException("device bug"); });
        t.setUncaughtExceptionHandler(failures); // what Thread.setDefaultUncaughtExceptionHandler does for jhyve's main
        return t;
    }

    private VirtualMachine spinning(KvmHypervisor kvm) {
        return VmBuilder.on(kvm).memory(16L << 20).vcpus(1).boot(KexecLoader.of(GuestImages.bootSector(dir, "spin.bin", 0xeb, 0xfe))).build();
    }

    @Test
    void aThreadThatDiesEndsTheRunningVmWithAnError() throws Exception {
        UncaughtFailures failures = new UncaughtFailures();
        try (KvmHypervisor kvm = KvmHypervisor.open(); VirtualMachine vm = spinning(kvm)) {
            vm.start();
            failures.running(vm);
            Thread t = dying(failures, "virtio-blk-worker");
            t.start();
            t.join();
            VmOutcome outcome = vm.await(Duration.ofSeconds(20));
            assertThat(outcome).as("the VM ended").isNotNull();
            assertThat(outcome.status()).isEqualTo(ExitStatus.ERROR);
            assertThat(outcome.reason()).startsWith("thread virtio-blk-worker died: java.lang.IllegalStateException: device bug (at org.jhyve.cli.UncaughtFailuresTest");
        }
        assertThat(failures.first()).isPresent();
    }

    @Test
    void aThreadThatDiedBeforeTheVmRanEndsItAsSoonAsItRuns() throws Exception {
        UncaughtFailures failures = new UncaughtFailures();
        Thread t = dying(failures, "early");
        t.start();
        t.join();
        assertThat(failures.first()).hasValueSatisfying(f -> assertThat(f).startsWith("thread early died: java.lang.IllegalStateException: device bug"));
        try (KvmHypervisor kvm = KvmHypervisor.open(); VirtualMachine vm = spinning(kvm)) {
            vm.start();
            failures.running(vm);
            VmOutcome outcome = vm.await(Duration.ofSeconds(20));
            assertThat(outcome).isNotNull();
            assertThat(outcome.status()).isEqualTo(ExitStatus.ERROR);
        }
    }
}
