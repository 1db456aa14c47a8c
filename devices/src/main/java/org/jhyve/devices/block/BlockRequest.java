package org.jhyve.devices.block;

import java.util.List;

/**
 * One request of a guest's disk driver, as a device model parsed it from its own protocol (a virtio-blk
 * descriptor chain, an ATA command), for a {@link BlockExecutor} to check and run. Positions are in the
 * device's sectors ({@link BlockGeometry#sectorSize()}) exactly as the guest gave them, not yet checked: a
 * hostile sector number times the sector size could wrap around into the disk, so the executor checks
 * before it multiplies. Lengths are bytes, also unchecked (virtio-blk takes them from the chain's buffers,
 * which need not hold whole sectors).
 *
 * <p>A record is immutable; its {@link DataBuffers} are the guest's memory and are read or written only by
 * the thread that executes the request.
 */
public sealed interface BlockRequest {
    /** What the request is, for log lines: "read", "write", "flush", ... */
    String what();

    /** Reads {@code bytes} from {@code sector} into the guest's buffers. */
    record Read(long sector, long bytes, DataBuffers data) implements BlockRequest {
        public Read {
            requireLength(bytes);
        }

        @Override public String what() { return "read"; }
    }

    /**
     * Writes {@code bytes} of the guest's buffers at {@code sector}. With {@code forceUnitAccess} the request
     * completes only once the backend has made it durable (ATA's FUA, and every write while the guest has
     * turned the drive's write cache off).
     */
    record Write(long sector, long bytes, DataBuffers data, boolean forceUnitAccess) implements BlockRequest {
        public Write {
            requireLength(bytes);
        }

        @Override public String what() { return "write"; }
    }

    /** Makes every write completed before it durable. */
    record Flush() implements BlockRequest {
        @Override public String what() { return "flush"; }
    }

    /** The guest no longer needs these ranges (virtio DISCARD, ATA TRIM); every one is checked before any is freed. */
    record Discard(List<Range> ranges) implements BlockRequest {
        public Discard {
            ranges = List.copyOf(ranges);
        }

        @Override public String what() { return "discard"; }
    }

    /** The ranges read as zeroes from now on; every one is checked before any is zeroed. */
    record WriteZeroes(List<ZeroRange> ranges) implements BlockRequest {
        public WriteZeroes {
            ranges = List.copyOf(ranges);
        }

        @Override public String what() { return "write-zeroes"; }
    }

    /** The sectors must exist; nothing moves (ATA READ VERIFY SECTORS). */
    record Verify(long sector, long bytes) implements BlockRequest {
        public Verify {
            requireLength(bytes);
        }

        @Override public String what() { return "verify"; }
    }

    /** What the guest sent could not be parsed into a request: its mistake, reported as one. */
    record Malformed(String problem) implements BlockRequest {
        public static Malformed of(String format, Object... args) {
            return new Malformed(String.format(format, args));
        }

        @Override public String what() { return "malformed request"; }
    }

    /** A well-formed request of a kind the device does not implement, e.g. "request type 99". */
    record Unsupported(String kind) implements BlockRequest {
        @Override public String what() { return kind; }
    }

    /** {@code bytes} from {@code sector}, one entry of a discard. */
    record Range(long sector, long bytes) {
        public Range {
            requireLength(bytes);
        }
    }

    /** One entry of a write-zeroes; {@code mayUnmap} lets the host free the space as well. */
    record ZeroRange(long sector, long bytes, boolean mayUnmap) {
        public ZeroRange {
            requireLength(bytes);
        }
    }

    /** Parsers produce lengths from unsigned fields and buffer sizes: a negative one is a device-model bug. */
    private static void requireLength(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative length " + bytes);
    }
}
