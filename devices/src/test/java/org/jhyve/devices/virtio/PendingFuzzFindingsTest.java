package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Findings of the virtqueue fuzz targets in code other helpers are changing, each minimised to a test that
 * fails until it is fixed (see /work/wt/notes/fuzz-findings.md). The fuzzers' own crash inputs are in
 * src/test/resources/fuzz-pending/; enable the test and move the input into the target's Inputs directory once
 * the fix is merged.
 */
class PendingFuzzFindingsTest {
    /**
     * F1: a used ring whose flags word is the available ring's idx (used = avail + 2: both alignments allow it).
     * Each pass the worker's disableNotifications writes 1 there and enableNotifications writes 0, so the
     * available index toggles between the one already taken and 0, enableNotifications always reports work, pop
     * finds none, and the worker spins forever without looking at its doorbell: the queue's thread burns a core
     * and a device reset (which joins it) never returns.
     */
    @Disabled("finding F1: a used ring overlapping the available ring makes the queue worker spin; reset hangs")
    @Test
    void aUsedRingOnTheAvailableRingDoesNotMakeTheWorkerSpin() throws Exception {
        Findings findings = new Findings("F1");
        FuzzMemory memory = FuzzMemory.of(FuzzMemory.OutsideRam.FINDING, findings, Long.MAX_VALUE, 0, 0x10000);
        long avail = 0x102, used = 0x104, desc = 0x1000;
        var raw = memory.raw();
        raw.writeShort(avail + 2, (short) 1);   // idx: one chain
        raw.writeShort(avail + 4, (short) 0);   // ring[0]: descriptor 0
        raw.writeLong(desc, 0x2000);            // descriptor 0: 16 writable bytes, no NEXT
        raw.writeInt(desc + 8, 16);
        raw.writeShort(desc + 12, (short) SplitQueue.DESC_F_WRITE);
        SplitQueue queue = new SplitQueue(memory, new QueueLayout(2, desc, avail, used), false, false);
        VirtqueueFuzzing.Queues queues = new VirtqueueFuzzing.Queues(memory, 0, new SplitQueue[] {queue}, findings);
        QueueWorker worker = QueueWorker.start("f1-worker", queues, 0, chain -> 0);
        Thread.sleep(100);
        queues.closeDoorbells(); // what a reset does before it joins the worker
        assertTimeoutPreemptively(Duration.ofSeconds(2), worker::close, "the worker ends once its doorbell is closed");
        assertThat(findings.all()).isEmpty();
    }
}
