package org.jhyve.devices.virtio;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.devices.net.LoopbackNetBackend;
import org.jhyve.devices.net.NetBackend;

/**
 * A {@link LoopbackNetBackend} the test can break, as a tap is when its interface is deleted: while broken, every
 * call fails with {@link IOException} (offloads too). Counts the waits for frames, to see a receive loop spin.
 */
final class BreakingNetBackend implements NetBackend {
    final LoopbackNetBackend inner;
    private volatile boolean broken;
    private volatile boolean offloadsFail;
    private final AtomicInteger waits = new AtomicInteger();
    private volatile CountDownLatch stall;
    /** Counted down when a receive starts waiting for the gate {@link #stallReceives} set. */
    final CountDownLatch stalled = new CountDownLatch(1);

    BreakingNetBackend(LoopbackNetBackend inner) { this.inner = inner; }

    void broken(boolean broken) { this.broken = broken; }

    void offloadsFail(boolean fail) { this.offloadsFail = fail; }

    /** From now on a receive waits for {@code gate} before it reads, as a readv on a hung host device would. */
    void stallReceives(CountDownLatch gate) { this.stall = gate; }

    /** Calls of {@link #awaitReadable} so far. */
    int waits() { return waits.get(); }

    private void check() throws IOException {
        if (broken) throw new IOException("the test broke this backend");
    }

    @Override public boolean vnetHeader() { return inner.vnetHeader(); }
    @Override public long offloadFeatures() { return inner.offloadFeatures(); }

    @Override
    public void enableOffloads(long features) throws IOException {
        if (offloadsFail) throw new IOException("TUNSETOFFLOAD refused by the test");
        inner.enableOffloads(features);
    }

    @Override
    public boolean awaitReadable(int timeoutMillis) throws IOException {
        waits.incrementAndGet();
        check();
        return inner.awaitReadable(timeoutMillis);
    }

    @Override public void wakeReceiver() { inner.wakeReceiver(); }

    @Override
    public int receive(List<MemorySegment> buffers) throws IOException {
        CountDownLatch gate = stall;
        if (gate != null) {
            stalled.countDown();
            boolean interrupted = false;
            while (gate.getCount() > 0) {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
        check();
        return inner.receive(buffers);
    }

    @Override
    public void send(List<MemorySegment> buffers) throws IOException {
        check();
        inner.send(buffers);
    }

    @Override public String describe() { return "breakable loopback"; }
    @Override public void close() { inner.close(); }
}
