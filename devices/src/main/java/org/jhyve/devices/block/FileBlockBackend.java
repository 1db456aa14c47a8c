package org.jhyve.devices.block;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A raw image file or host block device as a disk. Data moves between the file and guest memory with
 * preadv/pwritev on the guest's pages. {@code direct} opens with O_DIRECT (no host page cache; buffers or
 * offsets the kernel cannot take directly go through an aligned bounce buffer), {@code sync} with O_DSYNC
 * (every write durable on return). Discard and write-zeroes punch holes where the file system can.
 */
public final class FileBlockBackend implements BlockBackend {
    /** O_DIRECT needs offsets, lengths and buffer addresses aligned to the device's logical block; 4 KiB covers all. */
    private static final int DIRECT_ALIGNMENT = 4096;

    private final HostFile file;
    private final long size;
    private final boolean readOnly;
    private final boolean direct;

    private FileBlockBackend(HostFile file, long size, boolean readOnly, boolean direct) {
        this.file = file;
        this.size = size;
        this.readOnly = readOnly;
        this.direct = direct;
    }

    public static FileBlockBackend open(String path, boolean readOnly, boolean direct, boolean sync) throws IOException {
        int flags = (readOnly ? HostFile.O_RDONLY : HostFile.O_RDWR) | (direct ? HostFile.O_DIRECT : 0) | (sync ? HostFile.O_DSYNC : 0);
        HostFile file = HostFile.open(path, flags);
        try {
            long size = file.size();
            if (direct && size % DIRECT_ALIGNMENT != 0) {
                throw new IOException(path + ": nocache (O_DIRECT) needs a size that is a multiple of " + DIRECT_ALIGNMENT + " bytes, not " + size);
            }
            return new FileBlockBackend(file, size, readOnly, direct);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    @Override public long size() { return size; }

    @Override public boolean readOnly() { return readOnly; }

    @Override
    public void read(long offset, List<MemorySegment> buffers) throws IOException {
        if (canGoDirect(offset, buffers)) {
            file.readFully(offset, buffers);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            long total = total(buffers);
            long start = direct ? alignDown(offset) : offset;
            long end = direct ? alignUp(offset + total) : offset + total;
            MemorySegment bounce = arena.allocate(end - start, DIRECT_ALIGNMENT);
            file.readFully(start, List.of(bounce));
            long at = offset - start;
            for (MemorySegment b : buffers) {
                MemorySegment.copy(bounce, at, b, 0, b.byteSize());
                at += b.byteSize();
            }
        }
    }

    @Override
    public void write(long offset, List<MemorySegment> buffers) throws IOException {
        if (readOnly) throw new IOException(file.path() + " is read-only");
        if (canGoDirect(offset, buffers)) {
            file.writeFully(offset, buffers);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            long total = total(buffers);
            long start = direct ? alignDown(offset) : offset;
            long end = direct ? alignUp(offset + total) : offset + total;
            MemorySegment bounce = arena.allocate(end - start, DIRECT_ALIGNMENT);
            // A partial block under O_DIRECT: read what surrounds the guest's bytes first.
            if (direct && (start != offset || end != offset + total)) file.readFully(start, List.of(bounce));
            long at = offset - start;
            for (MemorySegment b : buffers) {
                MemorySegment.copy(b, 0, bounce, at, b.byteSize());
                at += b.byteSize();
            }
            file.writeFully(start, List.of(bounce));
        }
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) file.sync();
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        if (readOnly) throw new IOException(file.path() + " is read-only");
        // Not supported by the file system: discard is only a hint, so doing nothing is correct.
        file.fallocate(HostFile.FALLOC_FL_PUNCH_HOLE | HostFile.FALLOC_FL_KEEP_SIZE, offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        if (readOnly) throw new IOException(file.path() + " is read-only");
        if (mayUnmap && file.fallocate(HostFile.FALLOC_FL_PUNCH_HOLE | HostFile.FALLOC_FL_KEEP_SIZE, offset, length)) return;
        if (file.fallocate(HostFile.FALLOC_FL_ZERO_RANGE | HostFile.FALLOC_FL_KEEP_SIZE, offset, length)) return;
        try (Arena arena = Arena.ofConfined()) {
            long chunk = Math.min(length, 1 << 20);
            MemorySegment zeroes = arena.allocate(chunk, DIRECT_ALIGNMENT);
            for (long done = 0; done < length; done += chunk) {
                long n = Math.min(chunk, length - done);
                write(offset + done, List.of(zeroes.asSlice(0, n)));
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            file.close();
        }
    }

    /** Whether the guest's buffers can go to the kernel as they are (native, and aligned under O_DIRECT). */
    private boolean canGoDirect(long offset, List<MemorySegment> buffers) {
        for (MemorySegment b : buffers) if (!b.isNative()) return false;
        if (!direct) return true;
        if (offset % DIRECT_ALIGNMENT != 0) return false;
        for (MemorySegment b : buffers) {
            if (b.address() % DIRECT_ALIGNMENT != 0 || b.byteSize() % DIRECT_ALIGNMENT != 0) return false;
        }
        return true;
    }

    private static long total(List<MemorySegment> buffers) {
        long t = 0;
        for (MemorySegment b : buffers) t += b.byteSize();
        return t;
    }

    private static long alignDown(long v) { return v & -DIRECT_ALIGNMENT; }

    private static long alignUp(long v) { return (v + DIRECT_ALIGNMENT - 1) & -DIRECT_ALIGNMENT; }
}
