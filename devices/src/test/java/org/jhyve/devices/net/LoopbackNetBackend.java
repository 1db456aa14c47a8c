package org.jhyve.devices.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The host side of a virtual NIC for device tests, all in memory: frames the test {@link #deliver}s wait in a
 * bounded queue until the device {@link #receive}s them (scattered into its buffers, cut when they do not
 * fit), and frames the device {@link #send}s are gathered and kept in {@link #sent()}. With {@code vnetHeader}
 * every frame both ways carries the 12-byte virtio_net_hdr in front, as a tap with IFF_VNET_HDR does, and
 * the backend offers {@link VirtioNetFeatures#OFFLOADS}.
 */
public final class LoopbackNetBackend implements NetBackend {
    private final boolean vnetHeader;
    private final int capacity;
    private final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
    private final List<byte[]> sent = new ArrayList<>();
    private volatile long enabledOffloads = -1;
    private volatile boolean closed;
    private volatile Boolean queueEnabled; // null until the device says

    public LoopbackNetBackend(boolean vnetHeader, int capacity) {
        this.vnetHeader = vnetHeader;
        this.capacity = capacity;
    }

    public LoopbackNetBackend(boolean vnetHeader) {
        this(vnetHeader, 64);
    }

    /** Queues a frame (header included when {@code vnetHeader}) for the guest; false when the queue is full. */
    public synchronized boolean deliver(byte[] frame) {
        if (inbound.size() >= capacity) return false;
        inbound.add(frame.clone());
        notifyAll();
        return true;
    }

    /** Frames delivered and not yet received by the device. */
    public synchronized int waiting() { return inbound.size(); }

    /** Every frame the device sent, in order (header included when {@code vnetHeader}). */
    public synchronized List<byte[]> sent() { return List.copyOf(sent); }

    /** The features the device passed to {@link #enableOffloads}, or -1 before it did. */
    public long enabledOffloads() { return enabledOffloads; }

    public boolean closed() { return closed; }

    @Override public boolean vnetHeader() { return vnetHeader; }

    @Override public long offloadFeatures() { return vnetHeader ? VirtioNetFeatures.OFFLOADS : 0; }

    @Override public void enableOffloads(long features) { enabledOffloads = features; }

    @Override public void setQueueEnabled(boolean enabled) { queueEnabled = enabled; }

    /** What the device last said of this queue (multi-queue): null if it never did. */
    public Boolean queueEnabled() { return queueEnabled; }

    private boolean woken;
    private int wokenWaits;
    private int waits;

    /** How many times a receive thread has waited in awaitReadable with nothing to read. */
    public synchronized int waits() { return waits; }

    /** How many awaitReadable calls {@link #wakeReceiver} ended before their timeout. */
    public synchronized int wokenWaits() { return wokenWaits; }

    @Override
    public synchronized void wakeReceiver() {
        woken = true;
        notifyAll();
    }

    @Override
    public synchronized boolean awaitReadable(int timeoutMillis) throws java.io.IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (inbound.isEmpty() && !closed) {
            if (woken) {
                woken = false;
                wokenWaits++;
                return false;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            waits++;
            try {
                wait(Math.max(1, left / 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !inbound.isEmpty();
    }

    @Override
    public synchronized int receive(List<MemorySegment> buffers) {
        byte[] frame = inbound.poll();
        if (frame == null) return 0;
        int done = 0;
        for (MemorySegment b : buffers) {
            if (done == frame.length) break;
            int n = (int) Math.min(b.byteSize(), frame.length - done);
            MemorySegment.copy(frame, done, b, ValueLayout.JAVA_BYTE, 0, n);
            done += n;
        }
        return done;
    }

    @Override
    public synchronized void send(List<MemorySegment> buffers) {
        long length = 0;
        for (MemorySegment b : buffers) length += b.byteSize();
        byte[] frame = new byte[(int) length];
        int at = 0;
        for (MemorySegment b : buffers) {
            MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, frame, at, (int) b.byteSize());
            at += (int) b.byteSize();
        }
        sent.add(frame);
        notifyAll();
    }

    @Override public String describe() { return "loopback"; }

    @Override
    public synchronized void close() {
        closed = true;
        notifyAll();
    }
}
