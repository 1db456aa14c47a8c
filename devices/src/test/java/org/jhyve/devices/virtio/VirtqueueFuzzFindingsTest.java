package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;
import org.junit.jupiter.api.Test;

/**
 * What the virtqueue fuzz targets found, each minimised to a test (the fuzzers' own inputs are replayed from the
 * targets' Inputs directories as well; docs/reliability.md lists the findings).
 */
class VirtqueueFuzzFindingsTest {
    /**
     * F1: a used ring whose flags word is the available ring's idx (used = avail + 2: both alignments allow it).
     * The worker's disableNotifications wrote 1 there and enableNotifications 0, so the available index toggled,
     * enableNotifications always reported work, pop found none, and the worker spun for good without looking at
     * its doorbell. Such a layout is now refused when the queue is set up: the transport sets DEVICE_NEEDS_RESET.
     */
    @Test
    void aUsedRingOnTheAvailableRingIsRefusedBeforeAWorkerServesIt() {
        Findings findings = new Findings("F1");
        FuzzMemory memory = FuzzMemory.of(FuzzMemory.OutsideRam.FINDING, findings, Long.MAX_VALUE, 0, 0x10000);
        long avail = 0x102, used = 0x104, desc = 0x1000;
        assertThatThrownBy(() -> new SplitQueue(memory, new QueueLayout(2, desc, avail, used), false, false))
                .isInstanceOf(VirtqueueException.class)
                .hasMessage("used ring [0x104, +22) overlaps the available ring [0x102, +10)");
        assertThat(findings.all()).isEmpty();
    }
}
