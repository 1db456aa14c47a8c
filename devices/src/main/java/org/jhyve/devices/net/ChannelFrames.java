package org.jhyve.devices.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The frames of one Netty channel both ways, with back-pressure, for the backends built on Netty (a datagram
 * socket, passt's stream socket).
 *
 * <p>Received frames wait in a bounded queue; when it is full, Netty stops reading the channel (the kernel's
 * socket buffer then holds what comes, and a stream peer waits), and reads again once the guest has taken half,
 * so memory stays bounded. Sent frames wait in Netty's outbound buffer while the socket takes no more: {@link
 * #admit} then waits up to {@link #SEND_WAIT_MILLIS} for room and otherwise drops the frame (counted, and an
 * IOException, which virtio-net counts as a dropped transmit), and drops the next ones at once until the socket
 * takes frames again, so at most the channel's high water mark plus one frame waits. {@link #admit} asks before the frame is gathered. Ethernet is lossy; a real
 * NIC on a stalled link drops too.
 *
 * <p>Threads: Netty's event loop calls {@link #offer} and {@link #writabilityChanged}; one receive thread calls
 * {@link #awaitReadable} and {@link #receive}; one transmit thread calls {@link #admit}, {@link #gather} and {@link #write}; {@link #wake}, {@link
 * #fail} and {@link #close} any thread.
 */
final class ChannelFrames {
    static final int QUEUE = 256;
    static final int SEND_WAIT_MILLIS = 20;

    private final String name;
    private final BlockingQueue<ByteBuf> received = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong sendDropped = new AtomicLong();
    private final Object writability = new Object();
    private volatile Channel channel;
    /** A send waited {@link #SEND_WAIT_MILLIS} in vain and the socket has not taken frames since. Transmit thread only. */
    private boolean stalled;
    private volatile boolean closed;
    /** Why the link no longer works (the peer went away), or null while it does. */
    private volatile IOException failure;
    /** Set by {@link #wake} for the next (or the current) {@link #awaitReadable}; guarded by {@code received}. */
    private boolean woken;

    ChannelFrames(String name) {
        this.name = name;
    }

    /** The channel, once it exists (a backend makes it after this, since its handler calls {@link #offer}). */
    void attach(Channel channel) {
        this.channel = channel;
    }

    /** On the event loop: queues a frame the backend accepted, or drops it (false); stops reading when full. */
    boolean offer(Channel from, ByteBuf frame) {
        boolean queued = received.offer(frame);
        if (!queued) frame.release(); // cannot happen while autoRead follows the queue, but never grow it
        if (received.remainingCapacity() == 0) from.config().setAutoRead(false);
        synchronized (received) {
            received.notifyAll(); // wake awaitReadable now, not at the end of its (up to 20 ms) wait
        }
        return queued;
    }

    /** On the event loop: the channel's writability changed; a waiting {@link #admit} looks again. */
    void writabilityChanged() {
        synchronized (writability) {
            writability.notifyAll();
        }
    }

    /** The link stopped working for good: {@link #awaitReadable} throws {@code why} from now on. */
    void fail(IOException why) {
        if (failure == null) failure = why;
        wake();
        writabilityChanged();
    }

    /** Why the link failed, or null. */
    IOException failure() { return failure; }

    /** As {@link NetBackend#awaitReadable}: throws once the link has failed and nothing is left to read. */
    boolean awaitReadable(int timeoutMillis) throws IOException {
        if (!received.isEmpty()) return true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (received.isEmpty() && !closed) {
            if (failure != null) throw failure;
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            synchronized (received) {
                if (woken) {
                    woken = false;
                    return !received.isEmpty();
                }
                try {
                    received.wait(Math.max(1, Math.min(20, TimeUnit.NANOSECONDS.toMillis(left))));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return !received.isEmpty();
    }

    void wake() {
        synchronized (received) {
            woken = true;
            received.notifyAll();
        }
    }

    /** As {@link NetBackend#receive}: copies the oldest frame into {@code buffers} (cut to them), 0 when none waits. */
    int receive(List<MemorySegment> buffers) {
        ByteBuf frame = received.poll();
        if (frame == null) return 0;
        Channel ch = channel;
        if (ch != null && !ch.config().isAutoRead() && received.size() < QUEUE / 2) ch.config().setAutoRead(true);
        try {
            int length = frame.readableBytes(), done = 0;
            for (MemorySegment b : buffers) {
                if (done == length) break;
                int n = (int) Math.min(b.byteSize(), length - done);
                MemorySegment.copy(MemorySegment.ofBuffer(frame.nioBuffer(frame.readerIndex() + done, n)), 0, b, 0, n);
                done += n;
            }
            return done;
        } finally {
            frame.release();
        }
    }

    /**
     * A direct buffer of {@code prefix} bytes (left for the caller to fill: a stream's length field) followed by
     * the frame gathered from {@code buffers}.
     */
    ByteBuf gather(int prefix, List<MemorySegment> buffers) {
        int length = 0;
        for (MemorySegment b : buffers) length += (int) b.byteSize();
        ByteBuf frame = channel.alloc().directBuffer(prefix + length);
        frame.writerIndex(prefix);
        for (MemorySegment b : buffers) {
            int at = frame.writerIndex();
            frame.writerIndex(at + (int) b.byteSize());
            MemorySegment.copy(b, 0, MemorySegment.ofBuffer(frame.nioBuffer(at, (int) b.byteSize())), 0, b.byteSize());
        }
        return frame;
    }

    /**
     * Lets one frame be sent, or drops it (counted, and an IOException) when the socket has taken nothing for
     * {@link #SEND_WAIT_MILLIS} while Netty holds its high water mark of bytes: the peer stopped reading. A
     * failed link drops at once. Then the caller {@link #gather}s the frame and {@link #write}s it.
     */
    void admit() throws IOException {
        IOException failed = failure;
        if (failed != null) {
            sendDropped.incrementAndGet();
            throw failed;
        }
        if (!awaitWritable()) {
            sendDropped.incrementAndGet();
            throw new IOException(name + ": the peer takes no frames (" + pendingSendBytes() + " bytes wait); frame dropped");
        }
    }

    /** Hands a frame {@link #admit} let through to Netty. */
    void write(Object message) {
        channel.writeAndFlush(message);
    }

    /**
     * Waits for the socket to take frames again; after one wait in vain, frames are dropped at once until it
     * does, so a peer that stopped reading costs the transmit thread one wait, not one per frame.
     */
    private boolean awaitWritable() {
        if (channel.isWritable()) {
            stalled = false;
            return true;
        }
        if (stalled) return false;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SEND_WAIT_MILLIS);
        synchronized (writability) {
            while (!channel.isWritable() && !closed && failure == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    stalled = true;
                    return false;
                }
                try {
                    writability.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return channel.isWritable();
    }

    /** Bytes of sent frames Netty holds, not yet taken by the kernel (what a peer that stops reading makes grow). */
    long pendingSendBytes() {
        var outbound = channel.unsafe().outboundBuffer();
        return outbound == null ? 0 : outbound.totalPendingWriteBytes();
    }

    long sendDropped() { return sendDropped.get(); }

    /** Frames received and not yet taken by the guest. */
    int waiting() { return received.size(); }

    /** After the channel is closed: wakes the waiters and frees what still waits. */
    void close() {
        closed = true;
        writabilityChanged();
        wake();
        ByteBuf b;
        while ((b = received.poll()) != null) b.release();
    }
}
