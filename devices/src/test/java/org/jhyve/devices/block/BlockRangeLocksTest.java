package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Which requests exclude each other, and that requests taking stripes in any pattern never deadlock. */
@Timeout(60)
class BlockRangeLocksTest {
    static final int BLOCK = 4096;
    final BlockRangeLocks locks = new BlockRangeLocks(BLOCK, 8);

    /** Whether {@code second} gets its locks while {@code first}'s are held (waiting at most 500 ms). */
    boolean runsAlongside(long offset1, long length1, boolean head1, boolean tail1, long offset2, long length2, boolean head2, boolean tail2)
            throws Exception {
        BlockRangeLocks.Hold first = locks.lock(offset1, length1, head1, tail1);
        CompletableFuture<Void> second = CompletableFuture.runAsync(() -> locks.lock(offset2, length2, head2, tail2).close());
        try {
            second.get(500, TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } finally {
            first.close();
            second.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void mergesExcludeEverythingOnTheirBlockAndWholeBlockWritesShare() throws Exception {
        assertThat(runsAlongside(0, BLOCK, false, false, 0, BLOCK, false, false)).as("two whole-block writes").isTrue();
        assertThat(runsAlongside(0, 512, true, true, 512, 512, true, true)).as("two merges of one block").isFalse();
        assertThat(runsAlongside(0, BLOCK, false, false, 512, 512, true, true)).as("a whole-block write and a merge").isFalse();
        assertThat(runsAlongside(512, 512, true, true, 0, BLOCK, false, false)).as("a merge and a whole-block write").isFalse();
        assertThat(runsAlongside(0, 512, true, true, BLOCK, 512, true, true)).as("merges of neighbouring blocks").isTrue();
        assertThat(runsAlongside(0, 3L * BLOCK, false, true, 0, 512, true, true)).as("a merged tail leaves the head block shared").isFalse();
        assertThat(runsAlongside(0, 3L * BLOCK, false, true, 0, BLOCK, false, false)).as("shared head block").isTrue();
        assertThat(runsAlongside(0, 1L << 30, false, false, 5L * BLOCK + 512, 512, true, true)).as("a huge write covers every stripe").isFalse();
        assertThat(runsAlongside(0, 0, true, true, 0, 512, true, true)).as("nothing to lock").isTrue();
    }

    @Test
    void requestsTakingStripesInEveryPatternNeverDeadlock() throws Exception {
        int threads = 4, rounds = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger inside = new AtomicInteger();
        CompletableFuture<?>[] all = new CompletableFuture<?>[threads];
        for (int t = 0; t < threads; t++) {
            int seed = t;
            all[t] = CompletableFuture.runAsync(() -> {
                java.util.Random random = new java.util.Random(seed);
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < rounds; i++) {
                    long offset = (long) random.nextInt(64) * 512, length = 512L * (1 + random.nextInt(200));
                    try (BlockRangeLocks.Hold h = locks.lock(offset, length, random.nextBoolean(), random.nextBoolean())) {
                        inside.incrementAndGet();
                    }
                }
            });
        }
        go.countDown();
        CompletableFuture.allOf(all).get(50, TimeUnit.SECONDS);
        assertThat(inside.get()).isEqualTo(threads * rounds);
    }
}
