package org.jhyve.vm.debug;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.gdb.Stop;
import org.jhyve.testing.FakeVcpu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** bhyve's -G without w: the vCPUs run before any gdb, and a gdb that attaches stops them. */
@Timeout(20)
class DebugGateRunningStartTest {
    @Test
    void vcpusRunUntilGdbAttaches() throws Exception {
        FakeVcpu vcpu = new FakeVcpu(0);
        DebugGate gate = new DebugGate(List.of(vcpu), false);
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch ran = new CountDownLatch(3);
        Thread t = Thread.ofPlatform().start(() -> {
            while (gate.awaitRun(vcpu)) {
                runs.incrementAndGet();
                ran.countDown();
                java.util.concurrent.locks.LockSupport.parkNanos(100_000);
            }
            gate.vcpuExited();
        });
        assertThat(ran.await(5, TimeUnit.SECONDS)).as("ran with no gdb and no resume").isTrue();
        assertThat(gate.stopAll()).isEqualTo(new Stop.Trapped(1, Stop.Cause.NONE));
        int stoppedAt = runs.get();
        Thread.sleep(50);
        assertThat(runs.get()).as("parked once gdb attached").isEqualTo(stoppedAt);
        gate.vmEnded(1);
        t.join(5000);
    }
}
