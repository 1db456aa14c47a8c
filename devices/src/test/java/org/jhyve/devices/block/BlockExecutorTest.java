package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.devices.block.BlockRequest.Discard;
import org.jhyve.devices.block.BlockRequest.Flush;
import org.jhyve.devices.block.BlockRequest.Malformed;
import org.jhyve.devices.block.BlockRequest.Range;
import org.jhyve.devices.block.BlockRequest.Read;
import org.jhyve.devices.block.BlockRequest.Unsupported;
import org.jhyve.devices.block.BlockRequest.Verify;
import org.jhyve.devices.block.BlockRequest.Write;
import org.jhyve.devices.block.BlockRequest.WriteZeroes;
import org.jhyve.devices.block.BlockRequest.ZeroRange;
import org.jhyve.devices.block.RecordingBlockBackend.Fault;
import org.jhyve.devices.block.RecordingBlockBackend.Op;
import org.jhyve.devices.log.RecordingLogger;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/**
 * The checks and outcomes every block device shares, without a device: ranges in the executor's sectors,
 * the limits, read-only refusals, force unit access, host failures, and which log hears of each.
 */
class BlockExecutorTest {
    static final int DISK = 64 * 1024, SECTOR = 512;
    static final long SECTORS = DISK / SECTOR;
    final RecordingLogger log = new RecordingLogger();
    final RecordingBlockBackend disk = new RecordingBlockBackend(DISK, false);
    final BlockExecutor executor = executor(disk, new BlockGeometry(SECTOR, SECTORS, 8192, 4096));
    /** How often a request's buffers were mapped. */
    final AtomicInteger mapped = new AtomicInteger();

    BlockExecutor executor(BlockBackend backend, BlockGeometry geometry) {
        return new BlockExecutor(log, "disk0", backend, geometry);
    }

    DataBuffers buffer(byte[] bytes) {
        return length -> {
            mapped.incrementAndGet();
            assertThat(length).isEqualTo(bytes.length);
            return List.of(MemorySegment.ofArray(bytes));
        };
    }

    List<String> lines(Level level) {
        return log.at(level).stream().map(RecordingLogger.Line::text).toList();
    }

    @Test
    void readsAndWritesMoveWholeSectorsAtTheirOffset() {
        byte[] data = new byte[1024];
        java.util.Arrays.fill(data, (byte) 7);
        assertThat(executor.execute(new Write(3, 1024, buffer(data), false))).isEqualTo(BlockOutcome.OK);
        assertThat(disk.events(Op.WRITE)).singleElement().satisfies(e -> assertThat(e.offset()).isEqualTo(3 * SECTOR));
        byte[] back = new byte[1024];
        assertThat(executor.execute(new Read(3, 1024, buffer(back)))).isEqualTo(BlockOutcome.OK);
        assertThat(back).isEqualTo(data);
        assertThat(disk.events(Op.SYNC)).as("no FUA, no sync").isEmpty();
        assertThat(log.lines()).isEmpty();
    }

    @Test
    void rangeMistakesAreGuestErrorsCheckedBeforeTheBuffersAreMapped() {
        byte[] b = new byte[SECTOR];
        List<BlockRequest> wrong = List.of(
                new Read(SECTORS, SECTOR, buffer(b)),                         // just past the end
                new Read(SECTORS - 1, 2 * SECTOR, buffer(new byte[1024])),     // runs over the end
                new Read(-1, SECTOR, buffer(b)),
                new Read(Long.MAX_VALUE / 256, SECTOR, buffer(b)),             // times 512 would wrap around
                new Read(1L << 55, SECTOR, buffer(b)),                         // times 512 is 0 when it wraps
                new Write(0, 100, buffer(new byte[100]), false),               // not whole sectors
                new Write(0, 16384, buffer(new byte[16384]), false),           // above the transfer limit
                new Verify(SECTORS, SECTOR));
        for (BlockRequest r : wrong) assertThat(executor.execute(r)).as(r.toString()).isEqualTo(BlockOutcome.GUEST_ERROR);
        assertThat(mapped).as("no buffers mapped for a refused request").hasValue(0);
        assertThat(disk.events()).isEmpty();
        assertThat(lines(Level.WARN)).hasSize(wrong.size()).allMatch(l -> l.startsWith("disk0: bad request: "))
                .contains("disk0: bad request: read of 1 sectors at sector 128 is past the end of the disk (128 sectors)",
                        "disk0: bad request: write of 100 bytes at sector 0 is not whole sectors",
                        "disk0: bad request: write of 16384 bytes at sector 0 is larger than 8192 bytes");
        assertThat(executor.execute(new Read(SECTORS - 1, SECTOR, buffer(b)))).as("the last sector").isEqualTo(BlockOutcome.OK);
        assertThat(executor.execute(new Verify(0, SECTORS * SECTOR))).as("the whole disk, above the limit").isEqualTo(BlockOutcome.GUEST_ERROR);
        assertThat(executor.execute(new Verify(0, 8192))).isEqualTo(BlockOutcome.OK);
    }

    @Test
    void everyRangeIsCheckedBeforeAnyIsRunAndEmptyRangesAreKept() {
        List<Range> oneBad = List.of(new Range(0, SECTOR), new Range(SECTORS, SECTOR));
        assertThat(executor.execute(new Discard(oneBad))).isEqualTo(BlockOutcome.GUEST_ERROR);
        assertThat(executor.execute(new WriteZeroes(List.of(new ZeroRange(0, SECTOR, true), new ZeroRange(0, 8192, false)))))
                .as("a range above the range limit").isEqualTo(BlockOutcome.GUEST_ERROR);
        assertThat(disk.events()).isEmpty();
        assertThat(executor.execute(new Discard(List.of(new Range(2, 4096), new Range(3, 0))))).isEqualTo(BlockOutcome.OK);
        assertThat(disk.events(Op.DISCARD)).extracting(RecordingBlockBackend.Event::length).containsExactly(4096L, 0L);
        assertThat(executor.execute(new WriteZeroes(List.of(new ZeroRange(8, 4096, true))))).isEqualTo(BlockOutcome.OK);
        assertThat(disk.events(Op.WRITE_ZEROES)).singleElement().satisfies(e -> assertThat(e.offset()).isEqualTo(8 * SECTOR));
    }

    @Test
    void aReadOnlyDiskRefusesWhatWouldChangeItAtDebugAndStillReadsAndFlushes() {
        MemoryBlockBackend ro = new MemoryBlockBackend(DISK, true);
        BlockExecutor e = executor(ro, new BlockGeometry(SECTOR, SECTORS, 8192, 4096));
        assertThat(e.execute(new Write(SECTORS + 5, 100, buffer(new byte[100]), true))).as("refused before its range is looked at")
                .isEqualTo(BlockOutcome.READ_ONLY);
        assertThat(e.execute(new Discard(List.of(new Range(-1, 1))))).isEqualTo(BlockOutcome.READ_ONLY);
        assertThat(e.execute(new WriteZeroes(List.of()))).isEqualTo(BlockOutcome.READ_ONLY);
        assertThat(mapped).hasValue(0);
        assertThat(e.execute(new Read(0, SECTOR, buffer(new byte[SECTOR])))).isEqualTo(BlockOutcome.OK);
        assertThat(e.execute(new Flush())).isEqualTo(BlockOutcome.OK);
        assertThat(lines(Level.WARN)).isEmpty();
        assertThat(lines(Level.DEBUG)).containsExactly("disk0: write refused: the disk is read-only",
                "disk0: discard refused: the disk is read-only", "disk0: write-zeroes refused: the disk is read-only");
    }

    @Test
    void aWriteWithForceUnitAccessIsSyncedBeforeItCompletesAndFailsIfTheSyncDoes() {
        assertThat(executor.execute(new Write(8, 4096, buffer(new byte[4096]), true))).isEqualTo(BlockOutcome.OK);
        disk.assertWriteDurableAtCompletion("FUA write", 8 * SECTOR, disk.now());
        disk.injectNext(Op.SYNC, Fault.eio());
        assertThat(executor.execute(new Write(16, 4096, buffer(new byte[4096]), true))).isEqualTo(BlockOutcome.HOST_ERROR);
    }

    @Test
    void hostFailuresAreHostErrorsInTheirOwnLog() {
        disk.injectNext(Op.WRITE, Fault.enospc());
        assertThat(executor.execute(new Write(8, 4096, buffer(new byte[4096]), false))).isEqualTo(BlockOutcome.HOST_ERROR);
        disk.injectNext(Op.READ, Fault.eio());
        assertThat(executor.execute(new Read(8, 4096, buffer(new byte[4096])))).isEqualTo(BlockOutcome.HOST_ERROR);
        disk.injectNext(Op.SYNC, Fault.eio());
        assertThat(executor.execute(new Flush())).isEqualTo(BlockOutcome.HOST_ERROR);
        disk.injectNext(Op.DISCARD, Fault.eio());
        assertThat(executor.execute(new Discard(List.of(new Range(0, SECTOR))))).isEqualTo(BlockOutcome.HOST_ERROR);
        assertThat(lines(Level.WARN)).hasSize(4).allMatch(l -> l.startsWith("disk0: host I/O failed: "))
                .anyMatch(l -> l.startsWith("disk0: host I/O failed: write of 8 sectors at sector 8: "))
                .anyMatch(l -> l.startsWith("disk0: host I/O failed: flush: "));
    }

    @Test
    void malformedAndUnsupportedRequestsTouchNothing() {
        assertThat(executor.execute(Malformed.of("%d bytes of ranges", 12))).isEqualTo(BlockOutcome.GUEST_ERROR);
        assertThat(executor.execute(new Unsupported("request type 99"))).isEqualTo(BlockOutcome.UNSUPPORTED);
        assertThat(disk.events()).isEmpty();
        assertThat(lines(Level.WARN)).containsExactly("disk0: bad request: 12 bytes of ranges");
        assertThat(lines(Level.DEBUG)).containsExactly("disk0: request type 99 not supported");
    }

    @Test
    void sectorsCountInTheGeometrysSectorSize() {
        BlockExecutor big = executor(disk, new BlockGeometry(4096, DISK / 4096, 1L << 30, 1L << 30));
        byte[] data = new byte[4096];
        assertThat(big.execute(new Write(15, 4096, buffer(data), false))).isEqualTo(BlockOutcome.OK);
        assertThat(disk.events(Op.WRITE)).singleElement().satisfies(e -> assertThat(e.offset()).isEqualTo(15 * 4096));
        assertThat(big.execute(new Write(16, 4096, buffer(data), false))).isEqualTo(BlockOutcome.GUEST_ERROR);
        assertThat(big.execute(new Read(0, 512, buffer(new byte[512])))).as("a 512-byte piece of a 4 KiB sector").isEqualTo(BlockOutcome.GUEST_ERROR);
    }
}
