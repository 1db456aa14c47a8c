package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.hv.HypervisorException;
import org.jhyve.memory.MappingLifetime;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A queue's worker survives what the guest can provoke around it: an interrupt the platform refuses (an MSI to
 * no vCPU) is counted and the queue goes on; a broken queue makes the device need a reset and ends the worker.
 * Its close is bounded: a handler stuck in a backend does not hold the resetting thread (a vCPU) forever.
 */
class QueueWorkerTest {
    final TestQueues queues;
    final AtomicInteger handled = new AtomicInteger();
    QueueWorker worker;

    QueueWorkerTest() throws VirtqueueException {
        queues = new TestQueues(SegmentGuestMemory.onHeap(4L << 20));
    }

    @AfterEach
    void stop() {
        queues.doorbell.close();
        if (worker != null) worker.close();
    }

    void post() {
        long buffer = queues.driver.allocate(16);
        queues.driver.addChain(List.of(Buf.out(buffer, 16)));
        queues.doorbell.ring();
    }

    @Test
    void aRefusedInterruptIsCountedAndTheQueueIsServedOn() throws Exception {
        queues.onInterrupt = index -> {
            throw new HypervisorException("ioctl KVM_SIGNAL_MSI failed: EPERM", 1);
        };
        worker = QueueWorker.start("q-test", queues, 0, chain -> {
            handled.incrementAndGet();
            return 16;
        });
        post();
        VirtioPciTransportTest.await(() -> queues.interrupts.get() == 1, "the worker's interrupt");
        post();
        VirtioPciTransportTest.await(() -> queues.driver.usedIndex() == 2, "the second chain served");
        VirtioPciTransportTest.await(() -> queues.interrupts.get() == 2, "the second interrupt");
        assertThat(handled.get()).isEqualTo(2);
        assertThat(queues.failures).as("the device does not need a reset for it").isEmpty();
        assertThat(worker.faults()).isEqualTo(2);
    }

    @Test
    void closeGivesUpOnAHandlerStuckInItsBackendAndTheWorkerLaterStopsWithoutTouchingTheQueue() throws Exception {
        CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        worker = QueueWorker.start("q-stuck", queues, 0, chain -> {
            entered.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 16;
        });
        assertThat(queues.workersStarted.get()).isEqualTo(1);
        post();
        assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();

        // What a reset does on the vCPU: close the doorbell, then close the worker.
        queues.doorbell.close();
        long start = System.nanoTime();
        Thread resetting = Thread.ofPlatform().start(worker::close);
        resetting.join(Duration.ofSeconds(5));
        assertThat(resetting.isAlive()).as("the resetting thread got on").isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(worker.ended()).isFalse();
        assertThat(queues.workersStopped.get()).as("the worker may still touch guest memory").isZero();

        release.countDown();
        VirtioPciTransportTest.await(worker::ended, "the worker to end once its handler returned");
        assertThat(queues.workersStopped.get()).isEqualTo(1);
        assertThat(queues.driver.usedIndex()).as("nothing put on the used ring after the reset").isZero();
        assertThat(queues.interrupts.get()).isZero();
    }

    @Test
    void theWorkerHoldsGuestRamUntilItHasStopped() throws Exception {
        AtomicInteger unmaps = new AtomicInteger();
        MappingLifetime lifetime = new MappingLifetime(unmaps::incrementAndGet);
        TestQueues held = new TestQueues(new SegmentGuestMemory(SegmentGuestMemory.onHeap(4L << 20).regions(), lifetime));
        CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        QueueWorker stuck = QueueWorker.start("q-held", held, 0, chain -> {
            entered.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        });
        long buffer = held.driver.allocate(16);
        held.driver.addChain(List.of(Buf.out(buffer, 16)));
        held.doorbell.ring();
        assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
        held.doorbell.close();
        assertThat(stuck.close(Duration.ofMillis(50))).isFalse();
        assertThat(lifetime.release()).as("the VM closes: the worker still holds RAM").isEqualTo(1);
        assertThat(unmaps.get()).isZero();
        release.countDown();
        VirtioPciTransportTest.await(() -> unmaps.get() == 1, "the worker's end to unmap RAM");
    }
}
