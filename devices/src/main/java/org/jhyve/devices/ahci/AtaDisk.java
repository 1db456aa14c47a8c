package org.jhyve.devices.ahci;

import static org.jhyve.devices.ahci.AtaOpcodes.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.devices.block.BlockExecutor;
import org.jhyve.devices.block.BlockGeometry;
import org.jhyve.devices.block.BlockOutcome;
import org.jhyve.devices.block.BlockRequest;
import org.jhyve.devices.block.BlockRequest.Discard;
import org.jhyve.devices.block.BlockRequest.Flush;
import org.jhyve.devices.block.BlockRequest.Range;
import org.jhyve.devices.block.BlockRequest.Read;
import org.jhyve.devices.block.BlockRequest.Verify;
import org.jhyve.devices.block.BlockRequest.Write;
import org.jhyve.devices.block.DataBuffers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ATA disk (ATA8-ACS, ACS-2 for TRIM) over a {@link BlockBackend}: IDENTIFY DEVICE, DMA, PIO and native
 * queued reads and writes with LBA48, FLUSH CACHE (EXT) as fdatasync, DATA SET MANAGEMENT TRIM as hole
 * punching, SET FEATURES, READ LOG EXT (directory and the NCQ error log), READ VERIFY and the power commands.
 * Anything else is aborted (ERR with ABRT), as are writes to a read-only disk; an LBA range past the end gets
 * IDNF. After a queued command fails, further queued commands are aborted until the guest reads log 10h, as
 * the standard requires of a real drive.
 *
 * <p>Durability: the write cache is on (IDENTIFY says so) and FLUSH CACHE (EXT) returns once the backend's
 * sync has. A write with Force Unit Access (WRITE DMA FUA EXT, or WRITE FPDMA QUEUED with the FUA bit), and
 * every write while the guest has turned the write cache off, completes only once the backend has synced
 * it. A host failure is ERR with ABRT for a write or a flush and with UNC for a read.
 *
 * <p>Reads, writes, flushes, TRIM and READ VERIFY become {@link BlockRequest}s that the disk's {@link
 * BlockExecutor} checks, runs and logs; this class parses the commands and turns each outcome into a task file.
 */
final class AtaDisk implements SataDevice {
    private static final Logger log = LoggerFactory.getLogger(AtaDisk.class);

    static final String MODEL = "jhyve HARDDISK", FIRMWARE = "1.0";
    /** DATA SET MANAGEMENT payload blocks we accept per command (IDENTIFY word 105); 64 ranges per block. */
    static final int MAX_DSM_BLOCKS = 8;
    /** NCQ queue depth reported in word 75 (minus one): one tag per command slot. */
    static final int QUEUE_DEPTH = 32;
    static final int LOG_DIRECTORY = 0x00, LOG_NCQ_ERROR = 0x10, LOG_PAGE = 512;
    private static final int NQ = 0x80;
    /**
     * The most one command can ask for: a 48-bit or queued transfer of 65536 sectors, a TRIM entry of 65535. The
     * count registers cannot say more, so the executor's limits never refuse an ATA command.
     */
    private static final long MAX_TRANSFER_SECTORS = 65536, MAX_TRIM_SECTORS = 0xffff;

    /** The queued command whose failure the drive keeps reporting until log 10h is read. */
    private record NcqError(int tag, TaskFile taskFile) {}

    private final BlockBackend backend;
    private final AhciDriveOptions options;
    private final int sectorSize;
    private final long sectors;
    /** Checks and runs the disk requests; logs the guest's mistakes and the host's failures, rate-limited. */
    private final BlockExecutor executor;
    // Queued commands run on several workers at once (parallelCommands): what they read is volatile. The others
    // run alone, after the port's lock has passed between the workers.
    private volatile boolean writeCache = true;
    private volatile TransferMode transferMode = TransferMode.DEFAULT;
    private volatile NcqError ncqError;

    AtaDisk(String name, BlockBackend backend, AhciDriveOptions options) {
        this.backend = backend;
        this.options = options;
        this.sectorSize = options.logicalSectorSize();
        this.sectors = backend.size() / sectorSize;
        this.executor = new BlockExecutor(log, name, backend,
                new BlockGeometry(sectorSize, sectors, MAX_TRANSFER_SECTORS * sectorSize, MAX_TRIM_SECTORS * sectorSize));
    }

    @Override
    public TaskFile resetTaskFile() {
        // Signature 0x00000101 (count 1, LBA 1), error 01h "no error detected" after diagnostics.
        return new TaskFile(TaskFile.DRDY | TaskFile.DSC, 0x01, 0, 0x000001, 1);
    }

    @Override
    public void reset() {
        ncqError = null;
    }

    /**
     * Queued commands in parallel: as many as bhyve's block interface has threads per disk (8). More threads
     * would each wait in its own preadv; at NCQ's depth of 32 the rest queue up in the port until one returns.
     */
    @Override
    public int parallelCommands() { return 8; }

    @Override
    public boolean isQueued(CommandFis fis) {
        return fis.opcode() == READ_FPDMA_QUEUED || fis.opcode() == WRITE_FPDMA_QUEUED;
    }

    @Override
    public String describe() {
        return options.path() + " (ATA disk)";
    }

    @Override
    public Completion execute(AtaCommand c) {
        CommandFis f = c.fis();
        return switch (f.opcode()) {
            case IDENTIFY_DEVICE -> pioIn(c, identify());
            case READ_DMA_EXT -> transfer(c, f.lba(), f.count48(), false, Protocol.DMA, false);
            case WRITE_DMA_EXT -> transfer(c, f.lba(), f.count48(), true, Protocol.DMA, false);
            case WRITE_DMA_FUA_EXT -> transfer(c, f.lba(), f.count48(), true, Protocol.DMA, true);
            case READ_DMA -> transfer(c, f.lba28(), f.count28(), false, Protocol.DMA, false);
            case WRITE_DMA -> transfer(c, f.lba28(), f.count28(), true, Protocol.DMA, false);
            case READ_SECTORS_EXT -> transfer(c, f.lba(), f.count48(), false, Protocol.PIO_IN, false);
            case WRITE_SECTORS_EXT -> transfer(c, f.lba(), f.count48(), true, Protocol.PIO_OUT, false);
            case READ_SECTORS -> transfer(c, f.lba28(), f.count28(), false, Protocol.PIO_IN, false);
            case WRITE_SECTORS -> transfer(c, f.lba28(), f.count28(), true, Protocol.PIO_OUT, false);
            case READ_FPDMA_QUEUED, WRITE_FPDMA_QUEUED -> queued(c);
            case FLUSH_CACHE, FLUSH_CACHE_EXT -> flush();
            case DATA_SET_MANAGEMENT -> trim(c);
            case READ_VERIFY_SECTORS -> verify(f.lba28(), f.count28());
            case READ_VERIFY_SECTORS_EXT -> verify(f.lba(), f.count48());
            case SET_FEATURES -> setFeatures(f);
            case READ_LOG_EXT -> readLog(c);
            case CHECK_POWER_MODE -> Completion.nonData(TaskFile.ok().withCount(POWER_ACTIVE_OR_IDLE));
            // There is no spindle: power states are accepted and change nothing.
            case IDLE_IMMEDIATE, STANDBY_IMMEDIATE, IDLE, STANDBY -> Completion.nonData(TaskFile.ok());
            case EXECUTE_DEVICE_DIAGNOSTIC -> Completion.nonData(resetTaskFile());
            default -> refuse("command 0x%02x not supported", f.opcode());
        };
    }

    private Completion pioIn(AtaCommand c, byte[] data) {
        c.data().write(data);
        return new Completion(Protocol.PIO_IN, TaskFile.ok(), data.length);
    }

    /**
     * Reads or writes {@code count} sectors at {@code lba} between the disk and the command's buffers. The PRD
     * table is mapped once the range has passed its checks: a table that does not fit faults before the disk
     * is touched, and a command refused for its range is IDNF, not a fault.
     */
    private Completion transfer(AtaCommand c, long lba, long count, boolean write, Protocol protocol, boolean fua) {
        long bytes = count * sectorSize;
        DataBuffers data = length -> c.data().segments(0, length);
        // Without a write cache (or with FUA) a write is only complete once it is durable.
        BlockRequest request = write ? new Write(lba, bytes, data, fua || !writeCache) : new Read(lba, bytes, data);
        return switch (executor.execute(request)) {
            case OK -> new Completion(protocol, TaskFile.ok(), bytes);
            case GUEST_ERROR -> Completion.nonData(TaskFile.failed(TaskFile.IDNF, lba));
            case HOST_ERROR -> new Completion(protocol, TaskFile.failed(write ? TaskFile.ABRT : TaskFile.UNC, lba), 0);
            case READ_ONLY, UNSUPPORTED -> Completion.nonData(TaskFile.aborted());
        };
    }

    private Completion queued(AtaCommand c) {
        CommandFis f = c.fis();
        if (ncqError != null) {
            return new Completion(Protocol.QUEUED, TaskFile.aborted(), 0);
        }
        Completion done = transfer(c, f.lba(), f.queuedCount(), f.opcode() == WRITE_FPDMA_QUEUED, Protocol.QUEUED, f.forceUnitAccess());
        if (done.failed()) {
            TaskFile failed = done.taskFile();
            ncqError = new NcqError(f.queuedTag(), new TaskFile(failed.status(), failed.error(), CommandFis.DEVICE_LBA, f.lba(), f.count()));
        }
        return done;
    }

    private Completion flush() {
        BlockOutcome flushed = executor.execute(new Flush());
        return Completion.nonData(flushed == BlockOutcome.OK ? TaskFile.ok() : TaskFile.aborted());
    }

    private Completion verify(long lba, long count) {
        BlockOutcome checked = executor.execute(new Verify(lba, count * sectorSize));
        return Completion.nonData(checked == BlockOutcome.OK ? TaskFile.ok() : TaskFile.failed(TaskFile.IDNF, lba));
    }

    /**
     * DATA SET MANAGEMENT with the TRIM bit: a payload of 8-byte entries (LBA in bits 47:0, sector count in
     * 63:48, count 0 meaning "unused entry", which is left out). Every range is checked before any is discarded.
     */
    private Completion trim(AtaCommand c) {
        CommandFis f = c.fis();
        if ((f.features() & 1) == 0) return refuse("DATA SET MANAGEMENT without TRIM (features 0x%04x)", f.features());
        // A read-only disk refuses TRIM before its payload is fetched: the executor aborts it with no ranges.
        if (backend.readOnly()) return trimmed(executor.execute(new Discard(List.of())), 0);
        if (!options.discard()) return refuse("TRIM on a disk with nodelete");
        if (f.count() == 0 || f.count() > MAX_DSM_BLOCKS) return refuse("TRIM with %d payload blocks", f.count());
        int bytes = f.count() * 512;
        ByteBuffer payload = ByteBuffer.wrap(c.data().read(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        List<Range> ranges = new ArrayList<>();
        for (int at = 0; at < bytes; at += 8) {
            long entry = payload.getLong(at);
            long lba = entry & 0xffff_ffff_ffffL, count = entry >>> 48;
            if (count != 0) ranges.add(new Range(lba, count * sectorSize));
        }
        return trimmed(executor.execute(new Discard(ranges)), bytes);
    }

    /** TRIM's task file: the payload moved unless the command was refused before it was read or checked. */
    private static Completion trimmed(BlockOutcome outcome, int payloadBytes) {
        return switch (outcome) {
            case OK -> new Completion(Protocol.DMA, TaskFile.ok(), payloadBytes);
            case HOST_ERROR -> new Completion(Protocol.DMA, TaskFile.aborted(), payloadBytes);
            case GUEST_ERROR, READ_ONLY, UNSUPPORTED -> Completion.nonData(TaskFile.aborted());
        };
    }

    private Completion setFeatures(CommandFis f) {
        switch (f.features() & 0xff) {
            case SF_ENABLE_WRITE_CACHE -> writeCache = true;
            case SF_DISABLE_WRITE_CACHE -> {
                // Writes are durable from now on; make the ones before this durable too.
                Completion flushed = flush();
                if (flushed.failed()) return flushed;
                writeCache = false;
            }
            case SF_SET_TRANSFER_MODE -> {
                Optional<TransferMode> mode = TransferMode.of(f.count() & 0xff);
                if (mode.isEmpty()) return refuse("SET FEATURES: transfer mode 0x%02x", f.count() & 0xff);
                transferMode = mode.get();
            }
            case SF_ENABLE_READ_LOOK_AHEAD, SF_DISABLE_READ_LOOK_AHEAD, SF_ENABLE_REVERTING_DEFAULTS, SF_DISABLE_REVERTING_DEFAULTS -> { }
            default -> { return refuse("SET FEATURES subcommand 0x%02x not supported", f.features() & 0xff); }
        }
        return Completion.nonData(TaskFile.ok());
    }

    /** READ LOG EXT: log address in LBA 7:0, first page in LBA 15:8 and 39:32, page count in the count register. */
    private Completion readLog(AtaCommand c) {
        CommandFis f = c.fis();
        int address = (int) (f.lba() & 0xff);
        int page = (int) ((f.lba() >>> 8) & 0xff) | (int) ((f.lba() >>> 32) & 0xff) << 8;
        int count = f.count();
        byte[] contents = switch (address) {
            case LOG_DIRECTORY -> logDirectory();
            case LOG_NCQ_ERROR -> ncqErrorLog();
            default -> null;
        };
        if (contents == null || count == 0 || (long) page + count > contents.length / LOG_PAGE) {
            return refuse("READ LOG EXT of log 0x%02x pages %d+%d", address, page, count);
        }
        byte[] data = java.util.Arrays.copyOfRange(contents, page * LOG_PAGE, (page + count) * LOG_PAGE);
        Completion done = pioIn(c, data);
        if (address == LOG_NCQ_ERROR) ncqError = null; // reading the log is what ends the NCQ error condition
        return done;
    }

    /** The general-purpose log directory: version 1, and how many pages each supported log has. */
    private static byte[] logDirectory() {
        byte[] d = new byte[LOG_PAGE];
        d[0] = 1;
        d[2 * LOG_NCQ_ERROR] = 1;
        return d;
    }

    /** Log 10h (ACS-2 A.14): the failed tag and its task file, or NQ when no queued command failed. */
    private byte[] ncqErrorLog() {
        byte[] d = new byte[LOG_PAGE];
        if (ncqError == null) {
            d[0] = (byte) NQ;
        } else {
            TaskFile tf = ncqError.taskFile();
            d[0] = (byte) ncqError.tag();
            byte[] fis = ReceivedFis.registerD2h(tf, false);
            System.arraycopy(fis, 2, d, 2, 12); // status, error, LBA, device, count: the D2H FIS layout
        }
        int sum = 0;
        for (int i = 0; i < LOG_PAGE - 1; i++) sum += d[i];
        d[LOG_PAGE - 1] = (byte) -sum;
        return d;
    }

    private Completion refuse(String format, Object... args) {
        log.debug("{}: aborted: {}", describe(), String.format(format, args));
        return Completion.nonData(TaskFile.aborted());
    }

    /** IDENTIFY DEVICE data (ATA8-ACS 7.16, ACS-2 for words 69, 105 and 169). */
    byte[] identify() {
        boolean trim = !backend.readOnly() && options.discard();
        int heads = 16, sectorsPerTrack = 63;
        int cylinders = (int) Math.min(16383, sectors / (heads * sectorsPerTrack));
        int physicalExponent = Integer.numberOfTrailingZeros(options.physicalSectorSize() / sectorSize);
        IdentifyWords w = new IdentifyWords()
                .set(0, 0x0040)                                   // ATA device, fixed
                .set(1, cylinders).set(3, heads).set(6, sectorsPerTrack)
                .set(2, 0xc837)                                   // no SET FEATURES needed to spin up; data complete
                .setString(10, 10, options.serialNumber())
                .setString(23, 4, FIRMWARE)
                .setString(27, 20, MODEL)
                .set(47, 0x8000)                                  // READ/WRITE MULTIPLE not offered
                .set(49, 0x0b00)                                  // IORDY, LBA, DMA
                .set(50, 0x4000)
                .set(53, 0x0006)                                  // words 64-70 and 88 valid
                .set(54, cylinders).set(55, heads).set(56, sectorsPerTrack)
                .setDouble(57, (long) cylinders * heads * sectorsPerTrack)
                .setDouble(60, Math.min(sectors, 0x0fff_ffffL))   // 28-bit capacity
                .set(63, transferMode.word63())
                .set(64, 0x0003)                                  // PIO modes 3 and 4
                .set(65, 120).set(66, 120).set(67, 120).set(68, 120)
                .set(69, trim ? 0x4020 : 0)                       // deterministic zeroes after TRIM (a punched hole reads 0)
                .set(75, QUEUE_DEPTH - 1)
                .set(76, 0x010e)                                  // NCQ; SATA Gen1, Gen2, Gen3
                .set(77, 0x0006)                                  // current speed Gen3
                .set(80, 0x01f0)                                  // ATA/ATAPI-4 to ATA8-ACS
                .set(82, 0x0068)                                  // look-ahead, write cache, power management
                .set(83, 0x7400)                                  // FLUSH CACHE EXT, FLUSH CACHE, 48-bit addresses
                .set(84, 0x4060)                                  // general purpose logging, WRITE DMA FUA EXT
                .set(85, 0x0048 | (writeCache ? 0x0020 : 0))      // enabled: look-ahead, power management, write cache
                .set(86, 0x3400)
                .set(87, 0x4060)                                  // the same, enabled
                .set(88, transferMode.word88())
                .set(93, 0)                                       // not PATA: Linux counts the drive as SATA
                .setQuad(100, sectors)                            // 48-bit capacity
                .set(105, trim ? MAX_DSM_BLOCKS : 0)
                .set(106, 0x4000 | (sectorSize > 512 ? 0x1000 : 0) | (physicalExponent > 0 ? 0x2000 | physicalExponent : 0))
                .set(169, trim ? 0x0001 : 0)                      // DATA SET MANAGEMENT TRIM
                .set(209, physicalExponent > 0 ? 0x4000 : 0)      // logical sector 0 is at offset 0 of its physical one
                .set(217, 1);                                     // non-rotating: an image has no seek cost to hide
        if (sectorSize > 512) w.setDouble(117, sectorSize / 2);   // logical sector size, in 16-bit words
        return w.toBytes();
    }

    @Override
    public void close() throws IOException {
        backend.close();
    }
}
