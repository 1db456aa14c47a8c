package org.jhyve.devices.testing;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.devices.block.MemoryBlockBackend;

/**
 * A 1 MiB disk whose reads wait until the test opens the gate (a backend that hangs, as a dead NFS server or a
 * failing disk does), telling the test when one has started. Its bytes are {@code i * 5 + 1}. A read gives up
 * with an I/O error after 10 s so a broken test does not leave a thread behind for long.
 */
public final class GatedBackend implements BlockBackend {
    public final MemoryBlockBackend data = new MemoryBlockBackend(1 << 20, false);
    public final CountDownLatch entered = new CountDownLatch(1);
    public final CountDownLatch gate = new CountDownLatch(1);

    public GatedBackend() {
        for (int i = 0; i < data.data.length; i++) data.data[i] = (byte) (i * 5 + 1);
    }

    @Override public long size() { return data.size(); }

    @Override public boolean readOnly() { return false; }

    @Override
    public void read(long offset, List<MemorySegment> buffers) throws IOException {
        entered.countDown();
        try {
            if (!gate.await(10, TimeUnit.SECONDS)) throw new IOException("gate never opened");
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
        data.read(offset, buffers);
    }

    @Override public void write(long offset, List<MemorySegment> buffers) throws IOException { data.write(offset, buffers); }

    @Override public void flush() throws IOException { data.flush(); }

    @Override public void discard(long offset, long length) throws IOException { data.discard(offset, length); }

    @Override public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException { data.writeZeroes(offset, length, mayUnmap); }

    @Override public void close() throws IOException { data.close(); }
}
