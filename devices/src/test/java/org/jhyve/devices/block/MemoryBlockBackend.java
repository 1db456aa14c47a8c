package org.jhyve.devices.block;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** A disk in a byte array, for device tests: counts flushes and can be told to fail. */
public final class MemoryBlockBackend implements BlockBackend {
    public final byte[] data;
    private final boolean readOnly;
    public final AtomicInteger flushes = new AtomicInteger();
    public volatile boolean failIo;

    public MemoryBlockBackend(int size, boolean readOnly) {
        this.data = new byte[size];
        this.readOnly = readOnly;
    }

    @Override public long size() { return data.length; }

    @Override public boolean readOnly() { return readOnly; }

    @Override
    public synchronized void read(long offset, List<MemorySegment> buffers) throws IOException {
        if (failIo) throw new IOException("injected failure");
        long at = offset;
        for (MemorySegment b : buffers) {
            MemorySegment.copy(data, (int) at, b, ValueLayout.JAVA_BYTE, 0, (int) b.byteSize());
            at += b.byteSize();
        }
    }

    @Override
    public synchronized void write(long offset, List<MemorySegment> buffers) throws IOException {
        if (failIo) throw new IOException("injected failure");
        long at = offset;
        for (MemorySegment b : buffers) {
            MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, data, (int) at, (int) b.byteSize());
            at += b.byteSize();
        }
    }

    @Override
    public void flush() throws IOException {
        if (failIo) throw new IOException("injected failure");
        flushes.incrementAndGet();
    }

    @Override
    public synchronized void discard(long offset, long length) {
        java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
    }

    @Override
    public synchronized void writeZeroes(long offset, long length, boolean mayUnmap) {
        java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
    }

    @Override
    public void close() {}
}
