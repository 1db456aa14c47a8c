package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.kvm.Guests.DONE_PORT;
import static org.jhyve.kvm.Guests.MIB;
import static org.jhyve.kvm.Guests.assertOut;
import static org.jhyve.kvm.Guests.bytes;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jhyve.hv.VmExit;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.Test;

/** (h): kick() stops a vCPU from another thread, whether it is in the guest or about to enter it. */
class KickTest extends KvmTestBase {
    private static final byte[] SPIN = bytes(0xeb, 0xfe); // jmp $

    /** Runs the vCPU once on a new platform thread and waits until that thread is inside run(). */
    private static CompletableFuture<VmExit> runInBackground(KvmVcpu cpu) throws InterruptedException {
        CompletableFuture<VmExit> result = new CompletableFuture<>();
        Thread.ofPlatform().name("vcpu-" + cpu.index()).start(() -> {
            try {
                result.complete(cpu.run());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!cpu.isRunning() && !result.isDone() && System.nanoTime() < deadline) Thread.sleep(1);
        Thread.sleep(50); // from inside run() into KVM_RUN and the guest
        return result;
    }

    @Test
    void kickInterruptsASpinningGuestAndTheNextRunProceeds() throws Exception {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, SPIN);

            CompletableFuture<VmExit> first = runInBackground(cpu);
            assertThat(first).isNotDone();
            long start = System.nanoTime();
            cpu.kick();
            assertThat(first.get(1, TimeUnit.SECONDS)).isInstanceOf(VmExit.Interrupted.class);
            long micros = (System.nanoTime() - start) / 1000;
            assertThat(cpu.runArea().get(ValueLayout.JAVA_BYTE, KvmStructs.RUN_IMMEDIATE_EXIT)).isZero();

            // immediate_exit was cleared: the guest runs (and spins) again until the next kick.
            CompletableFuture<VmExit> second = runInBackground(cpu);
            Thread.sleep(200);
            assertThat(second).isNotDone();
            cpu.kick();
            assertThat(second.get(1, TimeUnit.SECONDS)).isInstanceOf(VmExit.Interrupted.class);
            System.out.printf("kick to Interrupted: %d us%n", micros);
        }
    }

    @Test
    void kickBeforeRunMakesTheNextRunReturnAtOnce() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(0xb0, 0x01, 0xe6, DONE_PORT)); // mov al, 1; out 0xf4, al
            cpu.kick();
            assertThat(cpu.run()).isInstanceOf(VmExit.Interrupted.class);
            assertThat(cpu.getRegisters().rip()).as("the guest did not run").isEqualTo(Guests.CODE);
            assertOut(cpu.run(), DONE_PORT, 1, 1);
        }
    }

    @Test
    void kickDuringAPendingInStillCompletesIt() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(0xe4, 0x71, 0xe6, DONE_PORT)); // in al, 0x71; out 0xf4, al
            VmExit.PortIo in = (VmExit.PortIo) cpu.run();
            in.data().set(ValueLayout.JAVA_BYTE, 0, (byte) 0x42);
            cpu.kick();
            assertThat(cpu.run()).isInstanceOf(VmExit.Interrupted.class);
            assertOut(cpu.run(), DONE_PORT, 1, 0x42);
        }
    }

    @Test
    void closingARunningVcpuIsRefusedAndKickAfterCloseIsHarmless() throws Exception {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1))) {
            KvmVcpu cpu = vm.createVcpu(0);
            Guests.realMode(vm, cpu, SPIN);
            CompletableFuture<VmExit> run = runInBackground(cpu);
            assertThatThrownBy(cpu::close).isInstanceOf(IllegalStateException.class);
            cpu.kick();
            assertThat(run.get(1, TimeUnit.SECONDS)).isInstanceOf(VmExit.Interrupted.class);
            cpu.close();
            cpu.close();
            cpu.kick();
            assertThatThrownBy(cpu::run).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void virtualThreadsAreRefused() throws Exception {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    cpu.run();
                    failure.complete(null);
                } catch (Throwable t) {
                    failure.complete(t);
                }
            }).join();
            assertThat(failure.get()).isInstanceOf(IllegalStateException.class);
        }
    }
}
