package org.jhyve.devices.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ethernet frames as datagrams, one frame per datagram, over UDP ({@code udp:HOST:PORT}) or a Unix-domain
 * datagram socket ({@code unix:PATH}, Netty's native epoll transport), sent to a fixed peer. Two jhyve guests
 * pointing at each other share a link without root or a tap. No vnet header: the guest computes checksums.
 *
 * <p>Received frames wait in a bounded queue of direct buffers; when it is full, Netty stops reading the
 * socket (the kernel's socket buffer then holds, and at last drops, what comes), so memory stays bounded.
 */
public final class SocketBackend implements NetBackend {
    static final int QUEUE = 256, MAX_FRAME = 65550;

    private final String local;
    private final EventLoopGroup group;
    private final Channel channel;
    private final SocketAddress peer;
    private final BlockingQueue<ByteBuf> received = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong oversized = new AtomicLong();
    private volatile boolean closed;
    /** Set by {@link #wakeReceiver} for the next (or the current) {@link #awaitReadable}; guarded by {@code received}. */
    private boolean woken;

    private SocketBackend(String local, EventLoopGroup group, Channel channel, SocketAddress peer) {
        this.local = local;
        this.group = group;
        this.channel = channel;
        this.peer = peer;
    }

    /** Binds {@code local} and sends to {@code peer}: both {@code udp:HOST:PORT}, or both {@code unix:PATH} (peer may omit "unix:"). */
    public static SocketBackend open(String local, String peer) throws IOException {
        boolean unix = local.startsWith("unix:");
        if (unix && !Epoll.isAvailable()) throw new IOException("unix datagram sockets need Netty's epoll transport: " + Epoll.unavailabilityCause());
        SocketAddress localAddress = unix ? new DomainSocketAddress(local.substring(5)) : inet(local.substring(4), "socket=" + local);
        SocketAddress peerAddress = unix ? new DomainSocketAddress(peer.startsWith("unix:") ? peer.substring(5) : peer)
                : inet(peer.startsWith("udp:") ? peer.substring(4) : peer, "peer=" + peer);
        // The event loop's I/O handler must match the channel: epoll for the unix channel, NIO for NioDatagramChannel
        // (Netty 4.2 refuses to register a channel on a loop of the other kind).
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                Thread.ofPlatform().name("jhyve-net-" + local).daemon().factory(),
                unix ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        SocketBackend[] self = new SocketBackend[1];
        Bootstrap b = new Bootstrap().group(group)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                // One byte more than a frame: a longer datagram, which the kernel cuts to the buffer, shows as too long.
                .option(ChannelOption.RCVBUF_ALLOCATOR, new io.netty.channel.FixedRecvByteBufAllocator(MAX_FRAME + 1))
                .handler(new SimpleChannelInboundHandler<Object>(false) {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf frame = msg instanceof DatagramPacket p ? p.content() : ((DomainDatagramPacket) msg).content();
                        self[0].offer(ctx, frame);
                    }
                });
        b.channelFactory(() -> unix ? new EpollDomainDatagramChannel() : new NioDatagramChannel());
        try {
            if (unix) Files.deleteIfExists(Path.of(local.substring(5)));
            Channel ch = b.bind(localAddress).sync().channel();
            self[0] = new SocketBackend(local, group, ch, peerAddress);
            return self[0];
        } catch (Exception e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("cannot bind " + local + ": " + e.getMessage(), e);
        }
    }

    private static InetSocketAddress inet(String hostPort, String what) throws IOException {
        int colon = hostPort.lastIndexOf(':');
        try {
            if (colon <= 0) throw new NumberFormatException();
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            if (port < 0 || port > 65535) throw new NumberFormatException();
            return new InetSocketAddress(hostPort.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new IOException(what + ": expected HOST:PORT");
        }
    }

    /** On the event loop: queue the frame, or stop reading while the guest is behind. */
    private void offer(ChannelHandlerContext ctx, ByteBuf frame) {
        if (frame.readableBytes() > MAX_FRAME || frame.readableBytes() < 14) {
            oversized.incrementAndGet();
            frame.release();
            return;
        }
        if (!received.offer(frame)) {
            frame.release(); // cannot happen while autoRead follows the queue, but never grow it
            oversized.incrementAndGet();
        }
        if (received.remainingCapacity() == 0) ctx.channel().config().setAutoRead(false);
        synchronized (received) {
            received.notifyAll(); // wake awaitReadable now, not at the end of its (up to 20 ms) wait
        }
    }

    @Override public boolean vnetHeader() { return false; }

    @Override public long offloadFeatures() { return 0; }

    @Override
    public boolean awaitReadable(int timeoutMillis) {
        if (!received.isEmpty()) return true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (received.isEmpty() && !closed) {
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

    @Override
    public void wakeReceiver() {
        synchronized (received) {
            woken = true;
            received.notifyAll();
        }
    }

    @Override
    public int receive(List<MemorySegment> buffers) {
        ByteBuf frame = received.poll();
        if (frame == null) return 0;
        if (!channel.config().isAutoRead() && received.size() < QUEUE / 2) channel.config().setAutoRead(true);
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

    @Override
    public void send(List<MemorySegment> buffers) {
        int length = 0;
        for (MemorySegment b : buffers) length += (int) b.byteSize();
        ByteBuf frame = channel.alloc().directBuffer(length);
        for (MemorySegment b : buffers) {
            int at = frame.writerIndex();
            frame.writerIndex(at + (int) b.byteSize());
            MemorySegment.copy(b, 0, MemorySegment.ofBuffer(frame.nioBuffer(at, (int) b.byteSize())), 0, b.byteSize());
        }
        Object packet = peer instanceof DomainSocketAddress d ? new DomainDatagramPacket(frame, d) : new DatagramPacket(frame, (InetSocketAddress) peer);
        channel.writeAndFlush(packet);
    }

    /** Frames dropped because they were not Ethernet-sized. */
    public long dropped() { return oversized.get(); }

    @Override public String describe() { return "socket " + local; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).syncUninterruptibly();
        ByteBuf b;
        while ((b = received.poll()) != null) b.release();
    }
}
