package org.jhyve.devices.fuzz;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;

/**
 * A disk in memory that holds the device model to {@link BlockBackend}'s contract, for fuzz targets: offsets and
 * lengths already checked against the size (a device that passes a range past the end would, on a file,
 * grow the image or read beyond it), no write to a read-only disk, and every buffer a view of guest RAM (never
 * host memory beside it). Violations are findings. I/O errors are injected where the input says, so the
 * devices' error paths run too.
 *
 * <p>Thread-safe: device workers call it.
 */
public final class CheckingBlockBackend implements BlockBackend {
    private final byte[] data;
    private final boolean readOnly;
    private final FuzzMemory memory;
    private final Findings findings;
    private final IntPredicate failOperation;
    private final AtomicInteger operations = new AtomicInteger();

    /** @param failOperation given the n-th operation (from 0), whether it fails with EIO */
    public CheckingBlockBackend(int size, boolean readOnly, FuzzMemory memory, Findings findings, IntPredicate failOperation) {
        this.data = new byte[size];
        this.readOnly = readOnly;
        this.memory = memory;
        this.findings = findings;
        this.failOperation = failOperation;
        // A recognisable pattern, copied rather than computed: fuzzing instruments every loop in org.jhyve.
        for (int at = 0; at < size; at += PATTERN.length) System.arraycopy(PATTERN, 0, data, at, Math.min(PATTERN.length, size - at));
    }

    private static final byte[] PATTERN = pattern();

    private static byte[] pattern() {
        byte[] p = new byte[4096];
        for (int i = 0; i < p.length; i++) p[i] = (byte) (i * 7 + 1);
        return p;
    }

    @Override public long size() { return data.length; }

    @Override public boolean readOnly() { return readOnly; }

    @Override
    public synchronized void read(long offset, List<MemorySegment> buffers) throws IOException {
        long length = checkBuffers("read", offset, buffers);
        if (!inside("read", offset, length)) return;
        failIfChosen("read");
        long at = offset;
        for (MemorySegment b : buffers) {
            MemorySegment.copy(data, (int) at, b, ValueLayout.JAVA_BYTE, 0, (int) b.byteSize());
            at += b.byteSize();
        }
    }

    @Override
    public synchronized void write(long offset, List<MemorySegment> buffers) throws IOException {
        long length = checkBuffers("write", offset, buffers);
        if (readOnly) findings.add("write of " + length + " bytes at " + offset + " to a read-only disk");
        if (!inside("write", offset, length) || readOnly) return;
        failIfChosen("write");
        long at = offset;
        for (MemorySegment b : buffers) {
            MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, data, (int) at, (int) b.byteSize());
            at += b.byteSize();
        }
    }

    @Override
    public void flush() throws IOException {
        failIfChosen("flush");
    }

    @Override
    public synchronized void discard(long offset, long length) throws IOException {
        if (readOnly) findings.add("discard on a read-only disk");
        if (!inside("discard", offset, length) || readOnly) return;
        failIfChosen("discard");
        Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
    }

    @Override
    public synchronized void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        if (readOnly) findings.add("write-zeroes on a read-only disk");
        if (!inside("write-zeroes", offset, length) || readOnly) return;
        failIfChosen("write-zeroes");
        Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
    }

    @Override public void close() { }

    private long checkBuffers(String what, long offset, List<MemorySegment> buffers) {
        long length = 0;
        for (MemorySegment b : buffers) {
            if (!memory.covers(b)) findings.add(String.format("%s at %d: a %d-byte buffer is not inside guest RAM", what, offset, b.byteSize()));
            length += b.byteSize();
        }
        return length;
    }

    private boolean inside(String what, long offset, long length) {
        if (offset >= 0 && length >= 0 && offset <= data.length && length <= data.length - offset) return true;
        findings.add(String.format("%s of %d bytes at offset %d of a %d-byte disk reached the backend unchecked", what, length, offset, data.length));
        return false;
    }

    private void failIfChosen(String what) throws IOException {
        if (failOperation.test(operations.getAndIncrement())) throw new IOException("injected EIO on " + what);
    }
}
