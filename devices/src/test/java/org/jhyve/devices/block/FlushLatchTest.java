package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.devices.log.RecordingLogger;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** fsyncgate: a failed fdatasync is not forgotten, however well the next one goes. */
class FlushLatchTest {
    final RecordingLogger log = new RecordingLogger();
    final AtomicInteger syncs = new AtomicInteger();
    volatile boolean failNext;

    /** A sync that fails once when told to, and succeeds after that, as Linux's fdatasync does. */
    void sync() throws IOException {
        syncs.incrementAndGet();
        if (failNext) {
            failNext = false;
            throw new HostIoException("disk.img: fdatasync: Input/output error (errno 5)", 5);
        }
    }

    @Test
    void afterOneFailedSyncEveryLaterFlushFailsAndTheLogSaysSoOnce() throws Exception {
        FlushLatch flushes = new FlushLatch(log, "disk.img", this::sync);
        flushes.flush();
        assertThat(syncs.get()).isEqualTo(1);
        failNext = true;
        assertThatThrownBy(flushes::flush).isInstanceOf(HostIoException.class).hasMessageContaining("Input/output error");
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(flushes::flush).isInstanceOf(IOException.class)
                    .hasMessage("disk.img: not flushed: an earlier fdatasync failed (disk.img: fdatasync: Input/output error (errno 5)), so writes before it may be lost");
        }
        assertThat(flushes.failed()).isTrue();
        assertThat(syncs.get()).as("no sync is tried once one failed").isEqualTo(2);
        assertThat(log.at(Level.ERROR)).hasSize(1);
        assertThat(log.at(Level.ERROR).get(0).text()).startsWith("disk.img: fdatasync failed (disk.img: fdatasync: Input/output error (errno 5)): "
                + "writes since the last good flush may be lost; every later flush of this disk fails");
    }

    @Test
    void syncsNeverOverlapAndAFlushThatWaitedReusesASyncStartedAfterIt() throws Exception {
        CountDownLatch inSync = new CountDownLatch(1), release = new CountDownLatch(1);
        AtomicInteger concurrent = new AtomicInteger(), maxConcurrent = new AtomicInteger();
        FlushLatch flushes = new FlushLatch(log, "disk.img", () -> {
            int now = concurrent.incrementAndGet();
            maxConcurrent.accumulateAndGet(now, Math::max);
            syncs.incrementAndGet();
            inSync.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            concurrent.decrementAndGet();
        });
        java.util.List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(5, r -> {
            Thread t = new Thread(r);
            threads.add(t);
            return t;
        });
        try {
            Future<?> first = pool.submit(() -> { flushes.flush(); return null; });
            assertThat(inSync.await(5, TimeUnit.SECONDS)).isTrue();
            // Four flushes issued while the first sync runs: that sync may not cover them, one more sync does.
            Future<?>[] waiting = new Future<?>[4];
            for (int i = 0; i < waiting.length; i++) waiting[i] = pool.submit(() -> { flushes.flush(); return null; });
            // Each has taken its number once it waits for the lock the first sync holds.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (threads.stream().filter(t -> t.getState() == Thread.State.BLOCKED).count() < 4) {
                assertThat(System.nanoTime()).as("four flushes waiting").isLessThan(deadline);
                Thread.sleep(1);
            }
            release.countDown();
            first.get(5, TimeUnit.SECONDS);
            for (Future<?> f : waiting) f.get(5, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertThat(maxConcurrent.get()).isEqualTo(1);
        assertThat(syncs.get()).isEqualTo(2);
    }
}
