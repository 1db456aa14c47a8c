package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jhyve.devices.block.BlockRequest.Flush;
import org.jhyve.devices.block.BlockRequest.Read;
import org.jhyve.devices.block.BlockRequest.Write;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * Both I/O engines on a real image opened with O_DIRECT: many requests in flight at once land the file's own
 * bytes in the right buffers, the checks come before any data moves, buffers the kernel cannot take directly
 * and writes still work (on I/O threads), and a close lets what is in flight complete.
 */
@Timeout(60)
class BlockEnginesTest {
    static final int SIZE = 1 << 20, SECTOR = 512;
    @TempDir
    Path dir;

    /** Completions by request number, and a latch for all of them. */
    static final class Outcomes {
        final ConcurrentHashMap<Integer, BlockOutcome> byRequest = new ConcurrentHashMap<>();
        final CountDownLatch all;

        Outcomes(int count) {
            all = new CountDownLatch(count);
        }

        BlockCompletion of(int request) {
            return new BlockCompletion() {
                @Override public void completed(BlockOutcome outcome) {
                    byRequest.put(request, outcome);
                    all.countDown();
                }

                @Override public void failed(RuntimeException fault) {
                    throw new AssertionError("request " + request + " faulted", fault);
                }
            };
        }

        void await() throws InterruptedException {
            assertThat(all.await(20, TimeUnit.SECONDS)).as("every request completed").isTrue();
        }
    }

    byte[] image() throws Exception {
        byte[] bytes = new byte[SIZE];
        new Random(5).nextBytes(bytes);
        Files.write(dir.resolve("disk.img"), bytes);
        return bytes;
    }

    FileBlockBackend open() throws Exception {
        try {
            return FileBlockBackend.open(dir.resolve("disk.img").toString(), false, true, false);
        } catch (HostIoException e) {
            // tmpfs and some other file systems refuse O_DIRECT outright
            assumeTrue(e.errno() != 22, "O_DIRECT is not supported by the file system under " + dir);
            throw e;
        }
    }

    static BlockExecutor executor(BlockBackend disk) {
        return new BlockExecutor(LoggerFactory.getLogger(BlockEnginesTest.class), "disk", disk, new BlockGeometry(SECTOR, SIZE / SECTOR, 1 << 30, 1 << 30));
    }

    @ParameterizedTest
    @EnumSource(BlockEngines.Kind.class)
    void manyReadsInFlightLandTheFilesBytesInTheirOwnBuffers(BlockEngines.Kind kind) throws Exception {
        byte[] bytes = image();
        int reads = 200;
        try (FileBlockBackend disk = open(); Arena arena = Arena.ofShared()) {
            BlockEngine engine = BlockEngines.open(kind, "disk", executor(disk), disk, 8);
            Outcomes outcomes = new Outcomes(reads);
            List<MemorySegment> buffers = new ArrayList<>();
            Random random = new Random(9);
            long[] offsets = new long[reads];
            for (int i = 0; i < reads; i++) {
                MemorySegment b = arena.allocate(8192, 4096);
                buffers.add(b);
                offsets[i] = 4096L * random.nextInt(SIZE / 4096 - 1);
                // Two buffers per read, as a guest's scatter-gather list has them.
                List<MemorySegment> parts = List.of(b.asSlice(0, 4096), b.asSlice(4096, 4096));
                engine.submit(new Read(offsets[i] / SECTOR, 8192, n -> parts), outcomes.of(i));
            }
            outcomes.await();
            engine.close();
            for (int i = 0; i < reads; i++) {
                assertThat(outcomes.byRequest.get(i)).isEqualTo(BlockOutcome.OK);
                byte[] want = java.util.Arrays.copyOfRange(bytes, (int) offsets[i], (int) offsets[i] + 8192);
                assertThat(buffers.get(i).toArray(ValueLayout.JAVA_BYTE)).as("read %d", i).isEqualTo(want);
            }
        }
    }

    @Test
    void nocacheImagesReadThroughIoUringWhereTheHostHasIt() throws Exception {
        image();
        try (FileBlockBackend disk = open()) {
            BlockEngine engine = BlockEngines.open(BlockEngines.Kind.IO_URING, "disk", executor(disk), disk, 2);
            assumeTrue(engine instanceof IoUringBlockEngine, "this host has no io_uring for us");
            engine.close();
        }
    }

    @Test
    void readsOfABatchGoToTheKernelTogetherWhenItEnds() throws Exception {
        byte[] bytes = image();
        try (FileBlockBackend disk = open(); Arena arena = Arena.ofShared()) {
            BlockEngine engine = BlockEngines.open(BlockEngines.Kind.IO_URING, "disk", executor(disk), disk, 2);
            assumeTrue(engine instanceof IoUringBlockEngine, "this host has no io_uring for us");
            Outcomes outcomes = new Outcomes(4);
            List<MemorySegment> buffers = new ArrayList<>();
            engine.beginBatch();
            for (int i = 0; i < 4; i++) {
                MemorySegment b = arena.allocate(4096, 4096);
                buffers.add(b);
                engine.submit(new Read(8L * i, 4096, n -> List.of(b)), outcomes.of(i));
            }
            Thread.sleep(100);
            assertThat(outcomes.byRequest).as("nothing reached the kernel before the batch ended").isEmpty();
            engine.endBatch();
            outcomes.await();
            engine.close();
            for (int i = 0; i < 4; i++) {
                assertThat(buffers.get(i).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(java.util.Arrays.copyOfRange(bytes, 4096 * i, 4096 * i + 4096));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BlockEngines.Kind.class)
    void wholeBlockWritesAndMergesOfTheSameBlocksNeverUndoEachOther(BlockEngines.Kind kind) throws Exception {
        image();
        int blocks = 64;
        try (FileBlockBackend disk = open(); Arena arena = Arena.ofShared()) {
            BlockEngine engine = BlockEngines.open(kind, "disk", executor(disk), disk, 8);
            Outcomes outcomes = new Outcomes(2 * blocks);
            // Each 4 KiB block gets a whole-block write (through the ring on IO_URING) and, at once, a 512-byte
            // write of its second sector (a read-modify-write of the block, on the pool). Checked to fail when the
            // ring's write does not hold its blocks.
            for (int b = 0; b < blocks; b++) {
                MemorySegment whole = arena.allocate(4096, 4096).fill((byte) (b + 1));
                MemorySegment part = arena.allocate(512, 4096).fill((byte) (0x80 | b));
                engine.beginBatch();
                engine.submit(new Write(8L * b, 4096, n -> List.of(whole), false), outcomes.of(2 * b));
                engine.submit(new Write(8L * b + 1, 512, n -> List.of(part), false), outcomes.of(2 * b + 1));
                engine.endBatch();
            }
            outcomes.await();
            engine.close();
            assertThat(outcomes.byRequest.values()).containsOnly(BlockOutcome.OK);
        }
        byte[] after = Files.readAllBytes(dir.resolve("disk.img"));
        for (int b = 0; b < blocks; b++) {
            for (int sector = 0; sector < 8; sector++) {
                int at = b * 4096 + sector * SECTOR;
                byte[] got = java.util.Arrays.copyOfRange(after, at, at + SECTOR);
                byte[] whole = new byte[SECTOR], part = new byte[SECTOR];
                java.util.Arrays.fill(whole, (byte) (b + 1));
                java.util.Arrays.fill(part, (byte) (0x80 | b));
                if (sector == 1) assertThat(got).as("block %d sector 1: one write or the other", b).isIn(whole, part);
                else assertThat(got).as("block %d sector %d: the whole-block write, not undone by the merge", b, sector).isEqualTo(whole);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BlockEngines.Kind.class)
    void checksComeFirstAndUnalignedBuffersAndWritesStillWork(BlockEngines.Kind kind) throws Exception {
        byte[] bytes = image();
        try (FileBlockBackend disk = open(); Arena arena = Arena.ofShared()) {
            BlockEngine engine = BlockEngines.open(kind, "disk", executor(disk), disk, 2);
            Outcomes outcomes = new Outcomes(4);
            // Past the end: refused without its buffers ever being asked for.
            engine.submit(new Read(SIZE / SECTOR, 4096, n -> { throw new AssertionError("buffers of a refused read"); }), outcomes.of(0));
            // Not 4 KiB aligned in memory: a bounce buffer on an I/O thread.
            MemorySegment odd = arena.allocate(4096 + 512, 4096).asSlice(512, 4096);
            engine.submit(new Read(8, 4096, n -> List.of(odd)), outcomes.of(1));
            MemorySegment data = arena.allocate(4096, 4096);
            data.fill((byte) 0x5a);
            engine.submit(new Write(64, 4096, n -> List.of(data), false), outcomes.of(2));
            engine.submit(new Flush(), outcomes.of(3));
            outcomes.await();
            engine.close();
            assertThat(outcomes.byRequest).containsEntry(0, BlockOutcome.GUEST_ERROR).containsEntry(1, BlockOutcome.OK)
                    .containsEntry(2, BlockOutcome.OK).containsEntry(3, BlockOutcome.OK);
            assertThat(odd.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(java.util.Arrays.copyOfRange(bytes, 8 * SECTOR, 8 * SECTOR + 4096));
        }
        byte[] after = Files.readAllBytes(dir.resolve("disk.img"));
        assertThat(after[64 * SECTOR]).isEqualTo((byte) 0x5a);
        assertThat(after[64 * SECTOR + 4095]).isEqualTo((byte) 0x5a);
    }

    @ParameterizedTest
    @EnumSource(BlockEngines.Kind.class)
    void aCloseLetsTheRequestsInFlightCompleteAndRefusesNewOnes(BlockEngines.Kind kind) throws Exception {
        image();
        try (FileBlockBackend disk = open(); Arena arena = Arena.ofShared()) {
            BlockEngine engine = BlockEngines.open(kind, "disk", executor(disk), disk, 4);
            Outcomes outcomes = new Outcomes(32);
            for (int i = 0; i < 32; i++) {
                MemorySegment b = arena.allocate(4096, 4096);
                engine.submit(new Read(8L * i, 4096, n -> List.of(b)), outcomes.of(i));
            }
            engine.close();
            outcomes.await();
            assertThat(outcomes.byRequest.values()).containsOnly(BlockOutcome.OK);
            assertThatThrownBy(() -> engine.submit(new Flush(), outcomes.of(99))).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void threadsStartOnlyWhenRequestsWaitAndNeverMoreThanAllowed() throws Exception {
        MemoryBlockBackend disk = new MemoryBlockBackend(SIZE, false);
        CountDownLatch release = new CountDownLatch(1);
        BlockBackend slow = new BlockBackend() {
            @Override public long size() { return disk.size(); }
            @Override public boolean readOnly() { return false; }
            @Override public void read(long offset, List<MemorySegment> buffers) throws java.io.IOException {
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                disk.read(offset, buffers);
            }
            @Override public void write(long offset, List<MemorySegment> buffers) throws java.io.IOException { disk.write(offset, buffers); }
            @Override public void flush() throws java.io.IOException { disk.flush(); }
            @Override public void discard(long offset, long length) { disk.discard(offset, length); }
            @Override public void writeZeroes(long offset, long length, boolean mayUnmap) { disk.writeZeroes(offset, length, mayUnmap); }
            @Override public void close() {}
        };
        ThreadPoolBlockEngine engine = new ThreadPoolBlockEngine("disk", executor(slow), 3);
        assertThat(engine.threads()).isZero();
        Outcomes outcomes = new Outcomes(10);
        for (int i = 0; i < 10; i++) {
            MemorySegment b = MemorySegment.ofArray(new byte[512]);
            engine.submit(new Read(i, 512, n -> List.of(b)), outcomes.of(i));
        }
        assertThat(engine.threads()).isEqualTo(3);
        release.countDown();
        outcomes.await();
        engine.close();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (engine.threads() > 0 && System.nanoTime() < deadline) Thread.sleep(1);
        assertThat(engine.threads()).isZero();
    }
}
