package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.virtio.BlockQueueHarness.pattern;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jhyve.devices.block.RecordingBlockBackend;
import org.jhyve.devices.block.RecordingBlockBackend.Fault;
import org.jhyve.devices.block.RecordingBlockBackend.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * virtio-blk's durability and error statuses, through the real queue workers: the driver's side queues
 * requests on the split rings and polls the used ring, the backend logs every write and sync. A FLUSH
 * completes only after a sync that covers every write completed before it was issued, on any queue; a host
 * failure (EIO, ENOSPC, a write that landed only in part) is IOERR for that request and the queue serves the
 * next one; what a FLUSH acknowledged is in the crash image.
 */
@Timeout(60)
class VirtioBlockDurabilityTest {
    static final int DISK = 1 << 20;
    final RecordingBlockBackend disk = new RecordingBlockBackend(DISK, false);
    BlockQueueHarness harness;

    BlockQueueHarness start(int queues) throws Exception {
        VirtioBlock dev = new VirtioBlock("vblk", disk, VirtioBlockOptions.parse("disk.img,num-queues=" + queues));
        harness = new BlockQueueHarness(dev, queues);
        return harness;
    }

    @AfterEach
    void stop() {
        if (harness != null) harness.close();
    }

    /** Issues a FLUSH on {@code queue}, checks the durability rule for it, and returns its status. */
    int flushAndCheck(int queue) {
        long issued = disk.now();
        int status = harness.run(queue, VirtioBlock.T_FLUSH, 0, null, 0);
        long completed = disk.now();
        if (status == VirtioBlock.S_OK) disk.assertFlushCovered("FLUSH on queue " + queue, issued, completed);
        return status;
    }

    @Test
    void aFlushOnOneQueueCompletesOnlyAfterASyncCoveringTheWritesOfEveryQueue() throws Exception {
        start(2);
        assertThat(harness.run(0, VirtioBlock.T_OUT, 8, pattern(4096, 1), 0)).isEqualTo(VirtioBlock.S_OK);
        assertThat(harness.run(1, VirtioBlock.T_OUT, 16, pattern(4096, 2), 0)).isEqualTo(VirtioBlock.S_OK);
        assertThat(flushAndCheck(0)).isEqualTo(VirtioBlock.S_OK);
        byte[] crash = disk.durable();
        assertThat(Arrays.copyOfRange(crash, 8 * 512, 8 * 512 + 4096)).isEqualTo(pattern(4096, 1));
        assertThat(Arrays.copyOfRange(crash, 16 * 512, 16 * 512 + 4096)).isEqualTo(pattern(4096, 2));
        assertThat(harness.failures).isEmpty();
    }

    @Test
    void writesAndFlushesFromTwoQueuesAtOnceKeepTheRuleForEveryFlush() throws Exception {
        start(2);
        CompletableFuture<?>[] drivers = new CompletableFuture<?>[2];
        for (int q = 0; q < 2; q++) {
            int queue = q;
            drivers[q] = CompletableFuture.runAsync(() -> {
                for (int round = 0; round < 50; round++) {
                    long sector = 64L * queue + (round % 8) * 8;
                    assertThat(harness.run(queue, VirtioBlock.T_OUT, sector, pattern(4096, round + queue), 0)).isEqualTo(VirtioBlock.S_OK);
                    if (round % 3 == 2) assertThat(flushAndCheck(queue)).isEqualTo(VirtioBlock.S_OK);
                }
            });
        }
        CompletableFuture.allOf(drivers).get(50, TimeUnit.SECONDS);
        assertThat(disk.events(Op.SYNC)).isNotEmpty();
    }

    @Test
    void hostFailuresAreIoErrForTheirRequestAndTheQueueServesTheNextOne() throws Exception {
        start(1);
        disk.injectNext(Op.WRITE, Fault.enospc());
        assertThat(harness.run(0, VirtioBlock.T_OUT, 8, pattern(4096, 1), 0)).as("ENOSPC").isEqualTo(VirtioBlock.S_IOERR);
        disk.injectNext(Op.WRITE, Fault.shortWrite(1024));
        assertThat(harness.run(0, VirtioBlock.T_OUT, 24, pattern(4096, 2), 0)).as("a write that landed in part").isEqualTo(VirtioBlock.S_IOERR);
        assertThat(harness.run(0, VirtioBlock.T_OUT, 40, pattern(4096, 3), 0)).as("the next write").isEqualTo(VirtioBlock.S_OK);
        disk.injectNext(Op.READ, Fault.eio());
        assertThat(harness.run(0, VirtioBlock.T_IN, 40, null, 4096)).as("EIO on a read").isEqualTo(VirtioBlock.S_IOERR);
        BlockQueueHarness.Pending read = harness.submit(0, VirtioBlock.T_IN, 40, null, 4096);
        assertThat(harness.await(read)).isEqualTo(VirtioBlock.S_OK);
        assertThat(harness.memory.readBytes(read.dataAt(), 4096)).isEqualTo(pattern(4096, 3));
        disk.injectNext(Op.WRITE_ZEROES, Fault.eio());
        byte[] range = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 40).putInt(8, 8).array();
        assertThat(harness.run(0, VirtioBlock.T_WRITE_ZEROES, 0, range, 0)).as("EIO on write-zeroes").isEqualTo(VirtioBlock.S_IOERR);

        disk.injectNext(Op.SYNC, Fault.eio());
        assertThat(flushAndCheck(0)).as("a failed sync fails the FLUSH").isEqualTo(VirtioBlock.S_IOERR);
        assertThat(flushAndCheck(0)).as("this backend forgets it; FileBlockBackend would not (FlushLatch)").isEqualTo(VirtioBlock.S_OK);
        assertThat(harness.failures).as("the device was never failed as a whole").isEmpty();
        assertThat(harness.device.ioErrors()).isEqualTo(5);
        // Only what was acknowledged is promised: the write that worked is in the crash image.
        assertThat(Arrays.copyOfRange(disk.durable(), 40 * 512, 40 * 512 + 4096)).isEqualTo(pattern(4096, 3));
    }
}
