package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * O_DIRECT writes of parts of a 4 KiB block from several threads at once, as several virtio-blk queues (or a
 * queue and an AHCI port) issue them: each thread owns some sectors of every block and writes only those,
 * round after round; after each round every sector must hold its own writer's bytes of that round. Without
 * the per-block locks a read-modify-write reads a block, another thread writes its sector of it, and the
 * first writes the stale sector back: the second thread's write is lost although it completed.
 */
@Timeout(120)
class DirectWriteMergeTest {
    static final int SECTOR = 512, BLOCK = 4096, SECTORS_PER_BLOCK = BLOCK / SECTOR;
    static final int BLOCKS = 16, ROUNDS = 40;

    @TempDir
    Path dir;
    FileBlockBackend disk;
    final Arena arena = Arena.ofShared();
    ExecutorService threads;

    @BeforeEach
    void open() throws IOException {
        Path img = Files.write(dir.resolve("disk.img"), new byte[BLOCKS * BLOCK]);
        try {
            disk = FileBlockBackend.open(img.toString(), false, true, false);
        } catch (HostIoException e) {
            Assumptions.assumeTrue(e.errno() != 22, "O_DIRECT is not supported by the file system under " + dir + ": " + e.getMessage());
            throw e;
        }
    }

    @AfterEach
    void close() throws IOException {
        if (threads != null) threads.shutdownNow();
        if (disk != null) disk.close();
        arena.close();
    }

    /** The byte sector {@code sector} of block {@code block} holds after round {@code round} of writer {@code writer}. */
    static byte pattern(int round, int writer, int block) {
        return (byte) (1 + round * 31 + writer * 7 + block * 3);
    }

    /** A 512-byte buffer aligned to 512 only: under O_DIRECT it goes through the bounce buffer. */
    MemorySegment sectorBuffer(byte value) {
        MemorySegment s = arena.allocate(SECTOR, SECTOR);
        s.fill(value);
        return s;
    }

    byte[] contents() throws IOException {
        MemorySegment all = arena.allocate(BLOCKS * BLOCK, BLOCK);
        disk.read(0, List.of(all));
        return all.toArray(ValueLayout.JAVA_BYTE);
    }

    interface RoundWork {
        void run(int round) throws IOException;
    }

    /** Runs each worker for {@link #ROUNDS} rounds, all side by side, checking after every round. */
    void rounds(List<RoundWork> workers, RoundWork check) throws Exception {
        CyclicBarrier start = new CyclicBarrier(workers.size() + 1), end = new CyclicBarrier(workers.size() + 1);
        threads = Executors.newFixedThreadPool(workers.size());
        List<Future<?>> running = new ArrayList<>();
        for (RoundWork w : workers) {
            running.add(threads.submit(() -> {
                for (int r = 0; r < ROUNDS; r++) {
                    await(start);
                    w.run(r);
                    await(end);
                }
                return null;
            }));
        }
        for (int r = 0; r < ROUNDS; r++) {
            await(start);
            await(end);
            check.run(r);
        }
        for (Future<?> f : running) f.get(10, TimeUnit.SECONDS);
    }

    static void await(CyclicBarrier b) {
        try {
            b.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException | BrokenBarrierException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void writersOfNeighbouringSectorsOfOneBlockDoNotUndoEachOther() throws Exception {
        List<RoundWork> writers = new ArrayList<>();
        for (int t = 0; t < SECTORS_PER_BLOCK; t++) {
            int sector = t;
            writers.add(round -> {
                for (int b = 0; b < BLOCKS; b++) disk.write((long) b * BLOCK + sector * SECTOR, List.of(sectorBuffer(pattern(round, sector, b))));
            });
        }
        List<String> lost = new ArrayList<>();
        rounds(writers, round -> {
            byte[] c = contents();
            for (int b = 0; b < BLOCKS; b++) {
                for (int s = 0; s < SECTORS_PER_BLOCK; s++) {
                    if (c[b * BLOCK + s * SECTOR] != pattern(round, s, b)) lost.add("round " + round + " block " + b + " sector " + s);
                }
            }
        });
        assertThat(lost).as("sectors whose completed write was undone").isEmpty();
    }

    @Test
    void aWholeBlockWriteIsNotUndoneByAMergeIntoTheSameBlock() throws Exception {
        MemorySegment whole = arena.allocate(BLOCK, BLOCK);
        RoundWork blockWriter = round -> {
            for (int b = 0; b < BLOCKS; b++) {
                whole.fill(pattern(round, 0, b));
                disk.write((long) b * BLOCK, List.of(whole)); // aligned: straight to the kernel
            }
        };
        RoundWork sectorWriter = round -> {
            for (int b = 0; b < BLOCKS; b++) disk.write((long) b * BLOCK, List.of(sectorBuffer(pattern(round, 1, b))));
        };
        List<String> lost = new ArrayList<>();
        rounds(List.of(blockWriter, sectorWriter), round -> {
            byte[] c = contents();
            for (int b = 0; b < BLOCKS; b++) {
                byte first = c[b * BLOCK];
                if (first != pattern(round, 0, b) && first != pattern(round, 1, b)) lost.add("round " + round + " block " + b + " sector 0");
                for (int s = 1; s < SECTORS_PER_BLOCK; s++) {
                    if (c[b * BLOCK + s * SECTOR] != pattern(round, 0, b)) lost.add("round " + round + " block " + b + " sector " + s);
                }
            }
        });
        assertThat(lost).as("sectors only the whole-block writer wrote, left with older bytes").isEmpty();
    }

    @Test
    void zeroedSectorsStayZeroWhileAMergeWritesTheirNeighbour() throws Exception {
        RoundWork zeroer = round -> {
            for (int b = 0; b < BLOCKS; b++) disk.writeZeroes((long) b * BLOCK + SECTOR, BLOCK - SECTOR, false);
        };
        RoundWork sectorWriter = round -> {
            for (int b = 0; b < BLOCKS; b++) disk.write((long) b * BLOCK, List.of(sectorBuffer(pattern(round, 1, b))));
        };
        RoundWork refill = round -> {
            MemorySegment all = arena.allocate(BLOCKS * BLOCK, BLOCK);
            all.fill((byte) 0x5a);
            disk.write(0, List.of(all));
        };
        refill.run(0);
        List<String> lost = new ArrayList<>();
        rounds(List.of(zeroer, sectorWriter), round -> {
            byte[] c = contents();
            for (int b = 0; b < BLOCKS; b++) {
                if (c[b * BLOCK] != pattern(round, 1, b)) lost.add("round " + round + " block " + b + " sector 0");
                for (int s = 1; s < SECTORS_PER_BLOCK; s++) {
                    if (c[b * BLOCK + s * SECTOR] != 0) lost.add("round " + round + " block " + b + " sector " + s + " not zero");
                }
            }
            refill.run(round);
        });
        assertThat(lost).as("write-zeroes undone by a merge").isEmpty();
    }
}
