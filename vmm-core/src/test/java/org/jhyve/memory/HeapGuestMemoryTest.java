package org.jhyve.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class HeapGuestMemoryTest extends GuestMemoryContract {
    private static GuestMemory shared;

    @BeforeAll
    static void allocate() {
        // A small low region keeps the heap test cheap; the mmap-backed test uses the full 3 GiB layout.
        shared = new SegmentGuestMemory(List.of(
                new MemoryRegion(0, Arena.ofAuto().allocate(16L << 20, 4096)),
                new MemoryRegion(MemoryLayout.HIGH_RAM_START, Arena.ofAuto().allocate(HIGH_SIZE, 4096))));
    }

    @Override
    protected GuestMemory memory() {
        return shared;
    }

    @Test
    void overlappingRegionsAreRejected() {
        var a = new MemoryRegion(0, Arena.ofAuto().allocate(8192));
        var b = new MemoryRegion(4096, Arena.ofAuto().allocate(8192));
        assertThatThrownBy(() -> new SegmentGuestMemory(List.of(a, b))).hasMessageContaining("overlap");
    }

    @Test
    void layoutSplitsOnlyAboveThreeGiB() {
        assertThat(MemoryLayout.ramRanges(1L << 30)).containsExactly(new MemoryLayout.Range(0, 1L << 30));
        assertThat(MemoryLayout.ramRanges(4L << 30)).containsExactly(
                new MemoryLayout.Range(0, 3L << 30), new MemoryLayout.Range(4L << 30, 1L << 30));
        assertThatThrownBy(() -> MemoryLayout.ramRanges(1000)).isInstanceOf(IllegalArgumentException.class);
    }
}
