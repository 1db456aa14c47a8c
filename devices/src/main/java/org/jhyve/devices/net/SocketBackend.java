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
import io.netty.channel.WriteBufferWaterMark;
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
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.sockets.UnixSocketFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ethernet frames as datagrams, one frame per datagram, over UDP ({@code udp:HOST:PORT}) or a Unix-domain
 * datagram socket ({@code unix:PATH}, Netty's native epoll transport), sent to a fixed peer. Two jhyve guests
 * pointing at each other share a link without root or a tap. No vnet header: the guest computes checksums.
 *
 * <p>Only the peer's frames reach the guest. A UDP socket is connected to the peer, so the kernel drops
 * datagrams from anyone else. A Unix socket is not connected: Netty's epoll channel closes itself when a
 * connect fails (the peer is not up yet), and a connected AF_UNIX datagram socket makes the kernel refuse
 * (EPERM) the datagrams of a peer that restarted until it connects again. Instead its file is 0600, so only
 * this user's processes may send to it at all, and a datagram is taken only when its sender is bound to the
 * peer's socket file (the same file, however its path is spelled). What others send is dropped and counted
 * ({@link #foreign}).
 *
 * <p>A {@code unix:} path is made 0600 (only this user's processes can send to it) and deleted at close; what is
 * at the path before is replaced only when it is a socket no process is bound to ({@link UnixSocketFile}).
 *
 * <p>Both ways with back-pressure ({@link ChannelFrames}): received frames wait in a bounded queue, and Netty stops
 * reading the socket while it is full; a frame to send waits a little for a peer that stopped reading, then is
 * dropped, so at most the high water mark ({@link #MAX_PENDING_SEND}) plus one frame waits.
 *
 * <p>Threads: one receive thread calls {@link #awaitReadable} and {@link #receive}; one transmit thread calls
 * {@link #send}; Netty's event loop reads the socket. {@link #wakeReceiver} and {@link #close} from any thread.
 */
public final class SocketBackend implements NetBackend {
    private static final Logger log = LoggerFactory.getLogger(SocketBackend.class);
    static final int QUEUE = ChannelFrames.QUEUE, MAX_FRAME = 65550;
    /** Netty's high water mark for frames not yet in the kernel: above it {@link #send} waits, then drops. */
    static final int MAX_PENDING_SEND = 256 * 1024;
    static final int SEND_WAIT_MILLIS = ChannelFrames.SEND_WAIT_MILLIS;

    private final String local;
    private final EventLoopGroup group;
    private final Channel channel;
    private final SocketAddress peer;
    private final Optional<UnixSocketFile> socketFile;
    private final ChannelFrames frames;
    private final AtomicLong oversized = new AtomicLong();
    private final AtomicLong foreign = new AtomicLong();
    private volatile boolean closed;
    /** The sender path last found to be bound to the peer's socket file (Unix). Event loop only. */
    private String peerSenderPath;

    private SocketBackend(String local, ChannelFrames frames, EventLoopGroup group, Channel channel, SocketAddress peer,
            Optional<UnixSocketFile> socketFile) {
        this.local = local;
        this.frames = frames;
        this.group = group;
        this.channel = channel;
        this.peer = peer;
        this.socketFile = socketFile;
        frames.attach(channel);
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
        ChannelFrames frames = new ChannelFrames(local);
        Bootstrap b = new Bootstrap().group(group)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                // One byte more than a frame: a longer datagram, which the kernel cuts to the buffer, shows as too long.
                .option(ChannelOption.RCVBUF_ALLOCATOR, new io.netty.channel.FixedRecvByteBufAllocator(MAX_FRAME + 1))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(MAX_PENDING_SEND / 2, MAX_PENDING_SEND))
                .handler(new SimpleChannelInboundHandler<Object>(false) {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                        if (self[0] != null) self[0].offer(ctx, msg);
                        else io.netty.util.ReferenceCountUtil.release(msg); // arrived between the bind and the end of open
                    }

                    @Override
                    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                        frames.writabilityChanged();
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        // A connected UDP socket hears ICMP port unreachable while the peer is not up yet: expected.
                        if (cause instanceof PortUnreachableException) log.debug("{}: {}", local, cause.toString());
                        else log.warn("{}: {}", local, cause.toString());
                    }
                });
        b.channelFactory(() -> unix ? new EpollDomainDatagramChannel() : new NioDatagramChannel());
        Optional<Path> path = unix ? Optional.of(Path.of(local.substring(5))) : Optional.empty();
        try {
            if (path.isPresent()) UnixSocketFile.prepare(path.get());
            Channel ch = b.bind(localAddress).sync().channel();
            Optional<UnixSocketFile> file = path.isPresent() ? Optional.of(UnixSocketFile.claim(path.get())) : Optional.empty();
            self[0] = new SocketBackend(local, frames, group, ch, peerAddress, file);
        } catch (Exception e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new IOException("cannot bind " + local + ": " + e.getMessage(), e);
        }
        SocketBackend backend = self[0];
        exposureWarning(localAddress).ifPresent(log::warn);
        if (!unix) {
            try {
                backend.channel.connect(peerAddress).sync(); // UDP: the peer need not be up
            } catch (Exception e) {
                backend.close();
                throw new IOException("cannot connect " + local + " to peer " + peer + ": " + e.getMessage(), e);
            }
        }
        return backend;
    }

    /** The one line logged when a UDP socket is bound beyond loopback. */
    static Optional<String> exposureWarning(SocketAddress bound) {
        if (!(bound instanceof InetSocketAddress inet) || inet.getAddress() == null || inet.getAddress().isLoopbackAddress()) return Optional.empty();
        return Optional.of("socket=udp:" + inet.getHostString() + ":" + inet.getPort() + " is bound beyond loopback: frames are taken from "
                + "whatever claims the peer's address (UDP source addresses are not authenticated)");
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
    private void offer(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = msg instanceof DatagramPacket p ? p.content() : ((DomainDatagramPacket) msg).content();
        if (!fromPeer(msg)) {
            foreign.incrementAndGet();
            frame.release();
            return;
        }
        if (frame.readableBytes() > MAX_FRAME || frame.readableBytes() < 14) {
            oversized.incrementAndGet();
            frame.release();
            return;
        }
        if (!frames.offer(ctx.channel(), frame)) oversized.incrementAndGet();
    }

    /**
     * UDP: connected, so the kernel passed only the peer's datagrams. Unix: the sender must be bound to the
     * peer's socket file; the last sender path found to be it is remembered, so only a new one costs a stat.
     */
    private boolean fromPeer(Object msg) {
        if (!(msg instanceof DomainDatagramPacket p)) return true;
        DomainSocketAddress sender = p.sender();
        if (sender == null || sender.path().isEmpty()) return false; // unbound: nobody's path
        if (sender.path().equals(peerSenderPath)) return true;
        try {
            if (!Files.isSameFile(Path.of(sender.path()), Path.of(((DomainSocketAddress) peer).path()))) return false;
        } catch (IOException | java.nio.file.InvalidPathException e) {
            return false; // a path that is gone or cannot be looked up is not the peer's
        }
        peerSenderPath = sender.path();
        return true;
    }

    @Override public boolean vnetHeader() { return false; }

    @Override public long offloadFeatures() { return 0; }

    @Override
    public boolean awaitReadable(int timeoutMillis) throws IOException {
        return frames.awaitReadable(timeoutMillis);
    }

    @Override
    public void wakeReceiver() {
        frames.wake();
    }

    @Override
    public int receive(List<MemorySegment> buffers) {
        return frames.receive(buffers);
    }

    /**
     * Sends one frame, or drops it (counted, and an IOException) when the socket has taken no frame for
     * {@link #SEND_WAIT_MILLIS} while Netty holds {@link #MAX_PENDING_SEND} bytes: the peer stopped reading.
     */
    @Override
    public void send(List<MemorySegment> buffers) throws IOException {
        frames.admit();
        ByteBuf frame = frames.gather(0, buffers);
        // A connected UDP socket takes the bare frame; a Unix one is addressed each time.
        frames.write(peer instanceof DomainSocketAddress d ? new DomainDatagramPacket(frame, d) : frame);
    }

    /** Bytes of sent frames Netty holds, not yet taken by the kernel (what a peer that stops reading makes grow). */
    public long pendingSendBytes() {
        return frames.pendingSendBytes();
    }

    /** Frames {@link #send} dropped because the socket took none for a while. */
    public long sendDropped() { return frames.sendDropped(); }

    /** Datagrams from senders other than the peer, dropped (only those the kernel did not filter already). */
    public long foreign() { return foreign.get(); }

    /** Frames dropped because they were not Ethernet-sized. */
    public long dropped() { return oversized.get(); }

    @Override public String describe() { return "socket " + local; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        channel.close().syncUninterruptibly();
        socketFile.ifPresent(UnixSocketFile::delete);
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).syncUninterruptibly();
        frames.close();
    }
}
