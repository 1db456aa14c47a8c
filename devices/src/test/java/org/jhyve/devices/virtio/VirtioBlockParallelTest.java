package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.virtio.BlockQueueHarness.pattern;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jhyve.devices.virtio.BlockQueueHarness.Pending;
import org.jhyve.devices.virtio.HookedBlockBackend.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The requests of one virtio-blk queue run in parallel, through the real queue worker and I/O engine: they
 * overlap in the backend, complete in any order into the right chains, stay within the queue's size, a FLUSH
 * waits for the writes before it, and a reset with requests in flight leaves the used ring alone.
 */
@Timeout(60)
class VirtioBlockParallelTest {
    static final int SECTORS_PER_BLOCK = 8;
    final HookedBlockBackend disk = new HookedBlockBackend(1 << 20);
    BlockQueueHarness harness;

    BlockQueueHarness start() throws Exception {
        harness = new BlockQueueHarness(new VirtioBlock("vblk", disk, VirtioBlockOptions.parse("disk.img")), 1);
        return harness;
    }

    @AfterEach
    void stop() {
        if (harness != null) harness.close();
    }

    @Test
    void twoReadsOfOneQueueAreInTheBackendAtOnce() throws Exception {
        CountDownLatch bothArrived = new CountDownLatch(2);
        disk.hook = (op, offset) -> {
            // Each read waits for the other: served one at a time, the first would time out and fail.
            bothArrived.countDown();
            if (!awaitUninterruptibly(bothArrived)) throw new IOException("the other read never arrived");
        };
        start();
        Pending a = harness.post(0, VirtioBlock.T_IN, 0, null, 4096);
        Pending b = harness.post(0, VirtioBlock.T_IN, 8, null, 4096);
        harness.ring(0);
        harness.awaitUsed(0, 2);
        assertThat(harness.status(a)).isEqualTo(VirtioBlock.S_OK);
        assertThat(harness.status(b)).isEqualTo(VirtioBlock.S_OK);
        assertThat(disk.mostInside.get()).isEqualTo(2);
    }

    @Test
    void requestsCompletingOutOfOrderGetTheirOwnStatusDataAndLength() throws Exception {
        byte[] first = pattern(4096, 1), second = pattern(4096, 2);
        System.arraycopy(first, 0, disk.disk.data, 0, 4096);
        System.arraycopy(second, 0, disk.disk.data, 4096, 4096);
        CountDownLatch secondDone = new CountDownLatch(1);
        disk.hook = (op, offset) -> {
            if (offset == 0 && !awaitUninterruptibly(secondDone)) throw new IOException("the second read never completed");
            if (offset == 2 * 4096) throw new IOException("injected failure");
        };
        start();
        Pending slow = harness.post(0, VirtioBlock.T_IN, 0, null, 4096);
        Pending fast = harness.post(0, VirtioBlock.T_IN, SECTORS_PER_BLOCK, null, 4096);
        Pending failing = harness.post(0, VirtioBlock.T_IN, 2 * SECTORS_PER_BLOCK, null, 4096);
        harness.ring(0);

        Map<Integer, Integer> written = new HashMap<>();
        List<VirtqueueDriver.Used> done = harness.awaitUsed(0, 2); // the fast one and the failing one, in some order
        done.forEach(u -> written.put(u.head(), u.length()));
        assertThat(written).containsOnlyKeys(fast.head(), failing.head());
        secondDone.countDown();
        VirtqueueDriver.Used last = harness.awaitUsed(0, 1).getFirst();
        assertThat(last.head()).isEqualTo(slow.head());
        written.put(last.head(), last.length());

        assertThat(harness.status(slow)).isEqualTo(VirtioBlock.S_OK);
        assertThat(harness.status(fast)).isEqualTo(VirtioBlock.S_OK);
        assertThat(harness.status(failing)).isEqualTo(VirtioBlock.S_IOERR);
        assertThat(written).containsEntry(slow.head(), 4097).containsEntry(fast.head(), 4097).containsEntry(failing.head(), 1);
        assertThat(harness.memory.readBytes(slow.dataAt(), 4096)).isEqualTo(first);
        assertThat(harness.memory.readBytes(fast.dataAt(), 4096)).isEqualTo(second);
        assertThat(harness.failures).isEmpty();
    }

    @Test
    void aFlushWaitsForTheWritesQueuedBeforeIt() throws Exception {
        CountDownLatch releaseWrite = new CountDownLatch(1), writeEntered = new CountDownLatch(1);
        List<Op> order = new java.util.concurrent.CopyOnWriteArrayList<>();
        disk.hook = (op, offset) -> {
            if (op == Op.WRITE) {
                writeEntered.countDown();
                awaitUninterruptibly(releaseWrite);
                order.add(Op.WRITE);
            } else {
                order.add(op);
            }
        };
        start();
        Pending write = harness.post(0, VirtioBlock.T_OUT, 0, pattern(4096, 3), 0);
        Pending flush = harness.post(0, VirtioBlock.T_FLUSH, 0, null, 0);
        Pending read = harness.post(0, VirtioBlock.T_IN, 64, null, 512);
        harness.ring(0);
        assertThat(writeEntered.await(10, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(100); // room for a flush that did not wait to reach the disk
        assertThat(order).doesNotContain(Op.FLUSH);
        assertThat(harness.status(flush)).isEqualTo(0x7f);
        releaseWrite.countDown();
        harness.awaitUsed(0, 3);
        assertThat(order).containsSubsequence(Op.WRITE, Op.FLUSH);
        assertThat(harness.status(write)).isEqualTo(VirtioBlock.S_OK);
        assertThat(harness.status(flush)).isEqualTo(VirtioBlock.S_OK);
        assertThat(harness.status(read)).isEqualTo(VirtioBlock.S_OK);
    }

    @Test
    void aResetWithRequestsInFlightNeverWritesTheUsedRingAfterwards() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        disk.hook = (op, offset) -> awaitUninterruptibly(release);
        start();
        for (int i = 0; i < 4; i++) harness.post(0, VirtioBlock.T_IN, 8L * i, null, 4096);
        harness.ring(0);
        waitUntil(() -> disk.inside.get() == 4);
        int usedBefore = harness.drivers.getFirst().usedIndex();

        harness.close(); // gives up waiting after QueueWorker.CLOSE_WAIT: the reads are still in the backend
        assertThat(harness.workersStopped.get()).isZero();
        release.countDown();
        waitUntil(() -> harness.workersStopped.get() == 1);
        assertThat(disk.inside.get()).isZero();
        assertThat(harness.drivers.getFirst().usedIndex()).isEqualTo(usedBefore);
        harness = null;
    }

    @Test
    void noMoreChainsAreInFlightThanTheQueueHasEntries() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        disk.hook = (op, offset) -> awaitUninterruptibly(release);
        start();
        // A hostile driver publishes one chain's head again and again: 32 entries at once, then 8 more.
        Pending p = harness.post(0, VirtioBlock.T_IN, 0, null, 512);
        VirtqueueDriver driver = harness.drivers.getFirst();
        for (int i = 1; i < BlockQueueHarness.QUEUE_SIZE; i++) driver.publish(p.head());
        harness.ring(0);
        waitUntil(() -> disk.inside.get() == BlockQueueHarness.QUEUE_SIZE);
        for (int i = 0; i < 8; i++) driver.publish(p.head());
        harness.ring(0);
        Thread.sleep(200); // room for a worker that ignored the bound to take more
        assertThat(disk.mostInside.get()).isEqualTo(BlockQueueHarness.QUEUE_SIZE);
        release.countDown();
        waitUntil(() -> driver.usedIndex() == BlockQueueHarness.QUEUE_SIZE + 8);
        assertThat(harness.failures).isEmpty();
    }

    private static boolean awaitUninterruptibly(CountDownLatch latch) {
        try {
            return latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within 10 s");
            Thread.sleep(1);
        }
    }
}
