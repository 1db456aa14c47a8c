package org.jhyve.devices.block;

import java.io.IOException;
import java.util.List;
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
import org.jhyve.devices.log.GuestErrorLog;
import org.slf4j.Logger;

/**
 * Runs the {@link BlockRequest}s of one disk against its {@link BlockBackend}, the same way for every device
 * model: first the checks (a write-like request on a read-only disk is refused; every position and length
 * must be whole sectors inside the disk and within the {@link BlockGeometry}'s limits, every range of a
 * discard or write-zeroes before any is run), then the backend calls, then one {@link BlockOutcome}. A
 * write with force unit access is flushed before it counts as done. Mistakes of the guest and failures of the
 * host each go to their own {@link GuestErrorLog} ("NAME: bad request", "NAME: host I/O failed"), rate-limited,
 * since a hostile guest or a full disk can fail every request; refusals the guest was told to expect (read-only,
 * unsupported) are logged at debug only.
 *
 * <p>Durability is the backend's: {@link BlockBackend#flush} returns only once completed writes are durable,
 * and once it has failed it fails for good, so a failed sync is HOST_ERROR for every later flush too.
 *
 * <p>Threading: one executor serves all of a disk's queues or ports at once; it keeps no state besides its
 * thread-safe logs, and a request's buffers are touched only by the thread executing it. A {@link
 * RuntimeException} from {@link DataBuffers#segments} (a device's own DMA fault) passes through unchanged.
 */
public final class BlockExecutor {
    private final Logger log;
    private final String name;
    private final BlockBackend backend;
    private final BlockGeometry geometry;
    private final GuestErrorLog guestErrors, hostErrors;

    /** {@code log} and {@code name} are the device's, so that its lines keep its logger and its name. */
    public BlockExecutor(Logger log, String name, BlockBackend backend, BlockGeometry geometry) {
        if (geometry.sectors() > backend.size() / geometry.sectorSize()) {
            throw new IllegalArgumentException(name + ": " + geometry.sectors() + " sectors of " + geometry.sectorSize()
                    + " bytes do not fit in " + backend.size() + " bytes");
        }
        this.log = log;
        this.name = name;
        this.backend = backend;
        this.geometry = geometry;
        this.guestErrors = new GuestErrorLog(log, name + ": bad request");
        this.hostErrors = new GuestErrorLog(log, name + ": host I/O failed");
    }

    public BlockOutcome execute(BlockRequest request) {
        BlockOutcome checked = check(request);
        if (checked != BlockOutcome.OK) return checked;
        try {
            run(request);
            return BlockOutcome.OK;
        } catch (IOException e) {
            return hostFailed(request, e);
        }
    }

    /** A request that failed in the host, logged as {@link #execute} logs it: for an engine that moved its data itself. */
    BlockOutcome hostFailed(BlockRequest request, IOException e) {
        hostErrors.report("%s: %s", describe(request), e.getMessage());
        return BlockOutcome.HOST_ERROR;
    }

    /** OK if the request may run; otherwise why not, logged. For an engine that moves the data itself, the checks come first too. */
    BlockOutcome check(BlockRequest request) {
        return switch (request) {
            case Malformed m -> guestError("%s", m.problem());
            case Unsupported u -> {
                log.debug("{}: {} not supported", name, u.kind());
                yield BlockOutcome.UNSUPPORTED;
            }
            case Read r -> extent(r.what(), r.sector(), r.bytes(), geometry.maxTransferBytes());
            case Verify v -> extent(v.what(), v.sector(), v.bytes(), geometry.maxTransferBytes());
            case Flush f -> BlockOutcome.OK;
            case Write w -> backend.readOnly() ? readOnly(w) : extent(w.what(), w.sector(), w.bytes(), geometry.maxTransferBytes());
            case Discard d -> backend.readOnly() ? readOnly(d) : ranges(d.what(), d.ranges());
            case WriteZeroes z -> backend.readOnly() ? readOnly(z)
                    : ranges(z.what(), z.ranges().stream().map(r -> new Range(r.sector(), r.bytes())).toList());
        };
    }

    /** The backend calls of a request that passed {@link #check}. */
    private void run(BlockRequest request) throws IOException {
        switch (request) {
            case Read r -> backend.read(offset(r.sector()), r.data().segments(r.bytes()));
            case Write w -> {
                backend.write(offset(w.sector()), w.data().segments(w.bytes()));
                if (w.forceUnitAccess()) backend.flush();
            }
            case Flush f -> backend.flush();
            case Discard d -> {
                for (Range r : d.ranges()) backend.discard(offset(r.sector()), r.bytes());
            }
            case WriteZeroes z -> {
                for (ZeroRange r : z.ranges()) backend.writeZeroes(offset(r.sector()), r.bytes(), r.mayUnmap());
            }
            case Verify v -> { } // checked: the sectors exist, and there is nothing to move
            case Malformed m -> throw new IllegalStateException("a malformed request never passes its checks");
            case Unsupported u -> throw new IllegalStateException("an unsupported request never passes its checks");
        }
    }

    private BlockOutcome ranges(String what, List<Range> ranges) {
        for (Range r : ranges) {
            BlockOutcome checked = extent(what, r.sector(), r.bytes(), geometry.maxRangeBytes());
            if (checked != BlockOutcome.OK) return checked;
        }
        return BlockOutcome.OK;
    }

    /** Checks that {@code bytes} at {@code sector} are whole sectors inside the disk, and at most {@code limit}. */
    private BlockOutcome extent(String what, long sector, long bytes, long limit) {
        int size = geometry.sectorSize();
        long sectors = geometry.sectors();
        if (bytes % size != 0) return guestError("%s of %d bytes at sector %d is not whole sectors", what, bytes, sector);
        if (bytes > limit) return guestError("%s of %d bytes at sector %d is larger than %d bytes", what, bytes, sector, limit);
        if (sector < 0 || sector > sectors || bytes / size > sectors - sector) {
            return guestError("%s of %d sectors at sector %d is past the end of the disk (%d sectors)", what, bytes / size, sector, sectors);
        }
        return BlockOutcome.OK;
    }

    private BlockOutcome readOnly(BlockRequest request) {
        log.debug("{}: {} refused: the disk is read-only", name, request.what());
        return BlockOutcome.READ_ONLY;
    }

    private BlockOutcome guestError(String format, Object... args) {
        guestErrors.report(format, args);
        return BlockOutcome.GUEST_ERROR;
    }

    /** A checked sector's byte offset: the sector is at most {@code sectors}, so this cannot overflow. */
    long offset(long sector) {
        return sector * geometry.sectorSize();
    }

    private String describe(BlockRequest request) {
        int size = geometry.sectorSize();
        return switch (request) {
            case Read r -> String.format("%s of %d sectors at sector %d", r.what(), r.bytes() / size, r.sector());
            case Write w -> String.format("%s of %d sectors at sector %d", w.what(), w.bytes() / size, w.sector());
            case Discard d -> String.format("%s of %d ranges", d.what(), d.ranges().size());
            case WriteZeroes z -> String.format("%s of %d ranges", z.what(), z.ranges().size());
            default -> request.what();
        };
    }
}
