package org.jhyve.devices.fuzz;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.List;
import org.jhyve.devices.net.NetBackend;
import org.jhyve.devices.net.VirtioNetFeatures;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;

/**
 * The host side of a virtual NIC for fuzz targets: frames the input chose wait to be received, frames sent are
 * counted, and every buffer the device hands over must be a view of guest RAM and, on transmit, no longer than
 * the largest frame the device promises to send. Violations are findings. An I/O error is injected where the
 * input says.
 *
 * <p>Thread-safe: the device's receive thread and transmit worker use it.
 */
public final class CheckingNetBackend implements NetBackend {
    /** virtio_net_hdr_v1, which a backend with the vnet header carries in front of each frame. */
    private static final int VNET_HEADER = 12;
    private final boolean vnetHeader;
    private final FuzzMemory memory;
    private final Findings findings;
    private final long maxSendBytes;
    private final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
    private final boolean failSends;
    private int received;
    private int sent;
    private int idleWaits;
    private boolean woken;

    /** @param maxSendBytes the most bytes (header included) one frame may gather */
    public CheckingNetBackend(boolean vnetHeader, FuzzMemory memory, Findings findings, long maxSendBytes, boolean failSends) {
        this.vnetHeader = vnetHeader;
        this.memory = memory;
        this.findings = findings;
        this.maxSendBytes = maxSendBytes;
        this.failSends = failSends;
    }

    /** Queues a frame (header included when {@link #vnetHeader()}) for the device to receive. */
    public synchronized void deliver(byte[] frame) {
        inbound.add(frame);
        notifyAll();
    }

    public synchronized int waiting() { return inbound.size(); }

    /** Frames the device took with {@link #receive}. */
    public synchronized int received() { return received; }

    public synchronized int sent() { return sent; }

    /** How often a receive thread found nothing to read: it has caught up. */
    public synchronized int idleWaits() { return idleWaits; }

    @Override public boolean vnetHeader() { return vnetHeader; }

    @Override public long offloadFeatures() { return vnetHeader ? VirtioNetFeatures.OFFLOADS : 0; }

    @Override
    public synchronized boolean awaitReadable(int timeoutMillis) {
        if (!inbound.isEmpty()) return true;
        idleWaits++;
        if (timeoutMillis > 0 && !woken) {
            try {
                wait(Math.min(timeoutMillis, 5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        woken = false;
        return !inbound.isEmpty();
    }

    @Override
    public synchronized void wakeReceiver() {
        woken = true;
        notifyAll();
    }

    @Override
    public synchronized int receive(List<MemorySegment> buffers) {
        check("receive", buffers);
        byte[] frame = inbound.poll();
        if (frame == null) return 0;
        received++;
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
    public synchronized void send(List<MemorySegment> buffers) throws IOException {
        // With the vnet header the device sends its own checked copy of the guest's header first (so the guest
        // cannot change it between the check and the send): that one buffer is the device's, not guest RAM.
        boolean deviceHeader = vnetHeader && !buffers.isEmpty() && buffers.get(0).byteSize() == VNET_HEADER && !memory.covers(buffers.get(0));
        long length = (deviceHeader ? VNET_HEADER : 0) + check("send", deviceHeader ? buffers.subList(1, buffers.size()) : buffers);
        if (length > maxSendBytes) findings.add("a " + length + "-byte frame reached the backend; the device promises at most " + maxSendBytes);
        if (failSends) throw new IOException("injected: the peer is gone");
        for (MemorySegment b : buffers) if (b.byteSize() > 0) b.get(ValueLayout.JAVA_BYTE, b.byteSize() - 1); // as writev would
        sent++;
    }

    private long check(String what, List<MemorySegment> buffers) {
        long total = 0;
        for (MemorySegment b : buffers) {
            if (!memory.covers(b)) findings.add(what + ": a " + b.byteSize() + "-byte buffer is not inside guest RAM");
            total += b.byteSize();
        }
        return total;
    }

    @Override public String describe() { return "fuzz"; }

    @Override public void close() { }
}
