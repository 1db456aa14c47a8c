package org.jhyve.vm.debug;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jhyve.gdb.ResumeAction;
import org.jhyve.gdb.Stop;
import org.jhyve.hv.GuestDebug;
import org.jhyve.testing.FakeVcpu;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * All-stop run control with two vCPU threads that loop as VcpuLoop does: each "run" of a vCPU with single
 * step on is one step (a stop); without, it spins until kicked or stopped.
 */
@Timeout(20)
class DebugGateTest {
    private final List<FakeVcpu> vcpus = List.of(new FakeVcpu(0), new FakeVcpu(1));
    private final DebugGate gate = new DebugGate(vcpus);
    private final List<Thread> threads = new ArrayList<>();

    @BeforeEach
    void startVcpuThreads() {
        for (FakeVcpu v : vcpus) {
            threads.add(Thread.ofPlatform().name("vcpu-" + v.index()).start(() -> {
                while (gate.awaitRun(v)) {
                    if (v.guestDebug().singleStep()) {
                        gate.stop(v.index(), new Stop.Trapped(v.index() + 1, Stop.Cause.NONE));
                    } else {
                        java.util.concurrent.locks.LockSupport.parkNanos(100_000); // "running the guest"
                    }
                }
                gate.vcpuExited();
            }));
        }
    }

    @AfterEach
    void endVm() throws InterruptedException {
        gate.vmEnded(1);
        for (Thread t : threads) t.join(5000);
    }

    @Test
    void theVmStartsHeldAndWorkRunsOnTheVcpusOwnThread() {
        assertThat(gate.stopAll()).isEqualTo(new Stop.Trapped(1, Stop.Cause.NONE));
        assertThat(gate.<String>onVcpu(1, v -> Thread.currentThread().getName())).isEqualTo("vcpu-1");
        assertThat(gate.<Long>onVcpu(0, v -> v.getRegisters().rip())).isEqualTo(0x1000);
    }

    @Test
    void aStepRunsOneVcpuAndReportsOnceBothAreParked() throws Exception {
        gate.stopAll();
        CompletableFuture<Stop> stop = new CompletableFuture<>();
        gate.resume(Map.of(2, ResumeAction.STEP), stop::complete);
        assertThat(stop.get(5, TimeUnit.SECONDS)).isEqualTo(new Stop.Trapped(2, Stop.Cause.NONE));
        assertThat(vcpus.get(1).guestDebug().singleStep()).isTrue();
        assertThat(vcpus.get(0).guestDebug()).as("vCPU 0 never ran").isEqualTo(GuestDebug.OFF);
        assertThat(gate.<String>onVcpu(0, v -> "parked")).isEqualTo("parked");
    }

    @Test
    void aStopOnOneVcpuStopsTheOthers() throws Exception {
        gate.stopAll();
        CompletableFuture<Stop> stop = new CompletableFuture<>();
        gate.resume(Map.of(1, ResumeAction.CONTINUE, 2, ResumeAction.STEP), stop::complete);
        assertThat(stop.get(5, TimeUnit.SECONDS)).isEqualTo(new Stop.Trapped(2, Stop.Cause.NONE));
        assertThat(vcpus.get(0).kicks()).as("vCPU 0 was kicked out of the guest").isPositive();
        assertThat(gate.<String>onVcpu(0, v -> "parked")).isEqualTo("parked");
    }

    @Test
    void ctrlCStopsRunningVcpus() throws Exception {
        gate.stopAll();
        CompletableFuture<Stop> stop = new CompletableFuture<>();
        gate.resume(Map.of(1, ResumeAction.CONTINUE, 2, ResumeAction.CONTINUE), stop::complete);
        Thread.sleep(50);
        assertThat(stop).isNotDone();
        gate.interrupt();
        assertThat(stop.get(5, TimeUnit.SECONDS)).isEqualTo(new Stop.Interrupted(1));
    }

    @Test
    void breakpointsReachEveryVcpuOnItsNextRun() throws Exception {
        gate.stopAll();
        GuestDebug withBreakpoints = new GuestDebug(false, true, List.of());
        gate.setGuestDebug(withBreakpoints);
        gate.resume(Map.of(1, ResumeAction.CONTINUE, 2, ResumeAction.CONTINUE), s -> { });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (vcpus.stream().anyMatch(v -> !v.guestDebug().equals(withBreakpoints)) && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(vcpus).allMatch(v -> v.guestDebug().equals(withBreakpoints));
    }

    @Test
    void theVmEndingIsTheStopOfARunningTarget() throws Exception {
        gate.stopAll();
        CompletableFuture<Stop> stop = new CompletableFuture<>();
        gate.resume(Map.of(1, ResumeAction.CONTINUE), stop::complete);
        gate.vmEnded(1);
        assertThat(stop.get(5, TimeUnit.SECONDS)).isEqualTo(new Stop.Exited(1));
        assertThatThrownBy(() -> gate.onVcpu(0, v -> "x")).hasMessageContaining("ended");
    }

    @Test
    void releaseLetsEveryVcpuRunWithoutDebugging() throws Exception {
        gate.stopAll();
        gate.setGuestDebug(new GuestDebug(false, true, List.of()));
        gate.resume(Map.of(1, ResumeAction.STEP), s -> { });
        gate.release();
        Thread.sleep(50);
        gate.interrupt(); // no debugger waits any more: nothing to stop for
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (vcpus.stream().anyMatch(v -> !v.guestDebug().equals(GuestDebug.OFF)) && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(vcpus).allMatch(v -> v.guestDebug().equals(GuestDebug.OFF));
        assertThat(gate.stopAll()).as("a new gdb can attach").isEqualTo(new Stop.Trapped(1, Stop.Cause.NONE));
    }
}
