package org.jhyve.devices.block;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A raw image file or host block device as a disk. Data moves between the file and guest memory with
 * preadv/pwritev on the guest's pages. {@code direct} opens with O_DIRECT (no host page cache; buffers or
 * offsets the kernel cannot take directly go through an aligned bounce buffer, at most {@link #BOUNCE_BYTES}
 * at a time), {@code sync} with O_SYNC (every write and the metadata it changes durable on return, as bhyve's sync and direct). Discard and write-zeroes punch holes
 * where the file system can.
 *
 * <p>Under O_DIRECT a write that covers part of a 4 KiB block reads the block, merges and writes it back;
 * {@link BlockRangeLocks} keeps two such merges, or a merge and a write of the same block, from undoing each
 * other. Flushes go through a {@link FlushLatch}: once an fdatasync failed, no flush succeeds any more.
 *
 * <p>Threading: every method may be called from several threads at once (one per virtio queue, AHCI port).
 */
public final class FileBlockBackend implements BlockBackend {
    /** O_DIRECT needs offsets, lengths and buffer addresses aligned to the device's logical block; 4 KiB covers all. */
    private static final int DIRECT_ALIGNMENT = 4096;
    /** The largest bounce buffer: a guest's unaligned 1 GiB request goes through 1 MiB at a time, not 1 GiB of host memory. */
    static final int BOUNCE_BYTES = 1 << 20;
    private static final int LOCK_STRIPES = 64;

    private final HostFile file;
    private final long size;
    private final boolean readOnly;
    private final boolean direct;
    private final BlockRangeLocks blocks = new BlockRangeLocks(DIRECT_ALIGNMENT, LOCK_STRIPES);
    private final FlushLatch flushes;

    private FileBlockBackend(HostFile file, long size, boolean readOnly, boolean direct) {
        this.file = file;
        this.size = size;
        this.readOnly = readOnly;
        this.direct = direct;
        this.flushes = new FlushLatch(file.path(), file::sync);
    }

    /** Opens a regular file or block device (anything else is refused before it is opened). */
    public static FileBlockBackend open(String path, boolean readOnly, boolean direct, boolean sync) throws IOException {
        ImageFiles.requireDisk(path);
        int flags = (readOnly ? HostFile.O_RDONLY : HostFile.O_RDWR) | (direct ? HostFile.O_DIRECT : 0) | (sync ? HostFile.O_SYNC : 0);
        HostFile file = HostFile.open(path, flags);
        try {
            long size = file.size();
            if (direct) checkDirectSize(path, size);
            return new FileBlockBackend(file, size, readOnly, direct);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** O_DIRECT moves whole 4 KiB blocks, so the last one must be whole too. */
    static void checkDirectSize(String path, long size) throws IOException {
        if (size % DIRECT_ALIGNMENT != 0) {
            throw new IOException(path + ": nocache (O_DIRECT) needs a size that is a multiple of " + DIRECT_ALIGNMENT + " bytes, not " + size);
        }
    }

    @Override public long size() { return size; }

    @Override public boolean readOnly() { return readOnly; }

    @Override
    public void read(long offset, List<MemorySegment> buffers) throws IOException {
        long total = total(buffers);
        if (total == 0) return;
        if (canGoDirect(offset, buffers)) {
            file.readFully(offset, buffers);
            return;
        }
        Cursor guest = new Cursor(buffers);
        try (Arena arena = Arena.ofConfined()) {
            long start = direct ? alignDown(offset) : offset, end = direct ? alignUp(offset + total) : offset + total;
            MemorySegment bounce = arena.allocate(Math.min(end - start, BOUNCE_BYTES), DIRECT_ALIGNMENT);
            for (long at = start; at < end; at += bounce.byteSize()) {
                long n = Math.min(bounce.byteSize(), end - at);
                file.readFully(at, List.of(bounce.asSlice(0, n)));
                long from = Math.max(at, offset), to = Math.min(at + n, offset + total);
                guest.copyFrom(bounce, from - at, to - from);
            }
        }
    }

    @Override
    public void write(long offset, List<MemorySegment> buffers) throws IOException {
        if (readOnly) throw new IOException(file.path() + " is read-only");
        long total = total(buffers);
        if (total == 0) return;
        if (!direct) {
            // The page cache takes any byte range: nothing to merge, nothing to lock.
            if (canGoDirect(offset, buffers)) file.writeFully(offset, buffers);
            else bounceWrite(offset, total, buffers, false, false);
            return;
        }
        long start = alignDown(offset), end = alignUp(offset + total);
        boolean mergeHead = start != offset, mergeTail = end != offset + total;
        try (BlockRangeLocks.Hold held = blocks.lock(start, end - start, mergeHead, mergeTail)) {
            if (canGoDirect(offset, buffers)) file.writeFully(offset, buffers);
            else bounceWrite(offset, total, buffers, mergeHead, mergeTail);
        }
    }

    /**
     * Writes the guest's bytes through aligned buffers: under O_DIRECT the whole blocks around them, reading
     * the first and last block first where the guest covers only part of it (the caller holds their locks).
     */
    private void bounceWrite(long offset, long total, List<MemorySegment> buffers, boolean mergeHead, boolean mergeTail) throws IOException {
        Cursor guest = new Cursor(buffers);
        long start = direct ? alignDown(offset) : offset, end = direct ? alignUp(offset + total) : offset + total;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bounce = arena.allocate(Math.min(end - start, BOUNCE_BYTES), DIRECT_ALIGNMENT);
            for (long at = start; at < end; at += bounce.byteSize()) {
                long n = Math.min(bounce.byteSize(), end - at);
                MemorySegment chunk = bounce.asSlice(0, n);
                if (mergeHead && at == start) file.readFully(at, List.of(chunk.asSlice(0, DIRECT_ALIGNMENT)));
                boolean tailInChunk = at + n == end;
                if (mergeTail && tailInChunk && !(mergeHead && end - start == DIRECT_ALIGNMENT)) {
                    file.readFully(end - DIRECT_ALIGNMENT, List.of(chunk.asSlice(n - DIRECT_ALIGNMENT, DIRECT_ALIGNMENT)));
                }
                long from = Math.max(at, offset), to = Math.min(at + n, offset + total);
                guest.copyTo(chunk, from - at, to - from);
                file.writeFully(at, List.of(chunk));
            }
        }
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) flushes.flush();
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        if (readOnly) throw new IOException(file.path() + " is read-only");
        if (length == 0) return; // fallocate refuses an empty range (EINVAL); there is nothing to do
        // Not supported by the file system: discard is only a hint, so doing nothing is correct.
        fallocate(HostFile.FALLOC_FL_PUNCH_HOLE | HostFile.FALLOC_FL_KEEP_SIZE, offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        if (readOnly) throw new IOException(file.path() + " is read-only");
        if (length == 0) return;
        if (mayUnmap && fallocate(HostFile.FALLOC_FL_PUNCH_HOLE | HostFile.FALLOC_FL_KEEP_SIZE, offset, length)) return;
        if (fallocate(HostFile.FALLOC_FL_ZERO_RANGE | HostFile.FALLOC_FL_KEEP_SIZE, offset, length)) return;
        try (Arena arena = Arena.ofConfined()) {
            long chunk = Math.min(length, BOUNCE_BYTES);
            MemorySegment zeroes = arena.allocate(chunk, DIRECT_ALIGNMENT);
            for (long done = 0; done < length; done += chunk) {
                long n = Math.min(chunk, length - done);
                write(offset + done, List.of(zeroes.asSlice(0, n)));
            }
        }
    }

    /** fallocate, holding the blocks it changes against a merge in progress (it writes only what it was asked to). */
    private boolean fallocate(int mode, long offset, long length) throws IOException {
        if (!direct) return file.fallocate(mode, offset, length);
        try (BlockRangeLocks.Hold held = blocks.lock(offset, length, false, false)) {
            return file.fallocate(mode, offset, length);
        }
    }

    /** Flushes (so that completed writes are durable) and closes; the file is closed even if the flush fails. */
    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            file.close();
        }
    }

    /** The image, for an engine that moves data itself ({@link IoUringBlockEngine}). */
    HostFile file() { return file; }

    /** Whether the image was opened with O_DIRECT (nocache). */
    boolean direct() { return direct; }

    /**
     * Takes the blocks a write of {@code [offset, offset + length)} straight from the guest's buffers changes
     * (shared: whole blocks, nothing merged), for a write that a completion on another thread will release.
     */
    BlockRangeLocks.Hold lockForDirectWrite(long offset, long length) {
        return blocks.lock(offset, length, false, false);
    }

    /** Whether the guest's buffers can go to the kernel as they are (native, and aligned under O_DIRECT). */
    boolean canGoDirect(long offset, List<MemorySegment> buffers) {
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

    /** Walks the guest's buffers in order, copying to or from a bounce buffer a piece at a time. */
    private static final class Cursor {
        private final List<MemorySegment> buffers;
        private int index;
        private long within;

        Cursor(List<MemorySegment> buffers) {
            this.buffers = buffers;
        }

        /** Copies the next {@code n} guest bytes into {@code dst} at {@code at}. */
        void copyTo(MemorySegment dst, long at, long n) {
            walk(dst, at, n, true);
        }

        /** Copies {@code n} bytes of {@code src} from {@code at} into the next guest bytes. */
        void copyFrom(MemorySegment src, long at, long n) {
            walk(src, at, n, false);
        }

        private void walk(MemorySegment bounce, long at, long n, boolean toBounce) {
            while (n > 0) {
                MemorySegment b = buffers.get(index);
                long k = Math.min(n, b.byteSize() - within);
                if (toBounce) MemorySegment.copy(b, within, bounce, at, k);
                else MemorySegment.copy(bounce, at, b, within, k);
                at += k;
                n -= k;
                within += k;
                if (within == b.byteSize()) {
                    index++;
                    within = 0;
                }
            }
        }
    }
}
