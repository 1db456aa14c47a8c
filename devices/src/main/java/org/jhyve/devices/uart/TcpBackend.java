package org.jhyve.devices.uart;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.devices.log.GuestErrorLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The port on a listening TCP socket ({@code tcp=IP:PORT}), one client at a time, like a serial console
 * server. Output while nobody is connected is dropped, as on an unplugged serial line. Input is handed
 * to a separate thread that may wait for the guest to read (back-pressure), so the event loop never
 * blocks; socket reads stop while it waits.
 *
 * <p>Output is batched: the guest's bytes collect in one buffer that the event loop writes out as one
 * message, not one write and flush per byte. What jhyve holds for the client (that buffer and what Netty has
 * not handed to the kernel yet) is bounded by {@link #MAX_BUFFERED}: past {@code MAX_BUFFERED - 16} the
 * transmitter reads as full ({@link #canTransmit}), as on a slow line, and it is free again once the client has
 * taken half of it. A byte the guest writes while the transmitter is full and the buffer is at its bound is
 * dropped and counted ({@link #dropped}), as a real UART overruns.
 *
 * <p>Anyone who can reach the socket reads the console and types into it; there is no authentication. A
 * listening address other than loopback gets one warning in the log.
 */
public final class TcpBackend implements SerialBackend {
    private static final Logger log = LoggerFactory.getLogger(TcpBackend.class);
    /** The most output jhyve holds for a client: the batch plus what Netty has not written to the socket. */
    static final int MAX_BUFFERED = 64 * 1024;
    /** Past this the transmitter reads full: a FIFO's worth (what a driver writes per THRE interrupt) must still fit. */
    private static final int FULL_ABOVE = MAX_BUFFERED - Uart16550.FIFO_SIZE;
    /** Below this it is free again: hysteresis, so a client that reads slowly is not one wake-up per byte. */
    private static final int FREE_BELOW = MAX_BUFFERED / 2;
    /** The kernel's send buffer per client, instead of the megabytes TCP autotuning may give a stalled peer. */
    private static final int SEND_BUFFER = 64 * 1024;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ExecutorService inputThread = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("jhyve-serial-tcp").unstarted(r));
    private final Channel server;
    private final InetSocketAddress bound;
    private volatile Channel client;
    private volatile SerialInput input;
    private final GuestErrorLog guestErrors;

    private final Object batchLock = new Object();
    private final byte[] batch = new byte[MAX_BUFFERED]; // guarded by batchLock
    private int batchLength;                             // guarded by batchLock
    private boolean flushQueued;                         // guarded by batchLock
    /** Bytes in the batch plus bytes Netty holds; changed under batchLock when added, on the event loop when written. */
    private final AtomicLong buffered = new AtomicLong();
    private final AtomicBoolean full = new AtomicBoolean();
    private final AtomicLong dropped = new AtomicLong();
    private volatile Runnable transmitReady = () -> { };

    public TcpBackend(InetSocketAddress address) throws IOException {
        try {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new ClientHandler());
                        }
                    })
                    .childOption(ChannelOption.SO_SNDBUF, SEND_BUFFER)
                    .childOption(ChannelOption.TCP_NODELAY, true) // output leaves in batches already; echo must not wait
                    .bind(address).sync().channel();
        } catch (Exception e) {
            shutdownThreads();
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort() + ": " + e.getMessage(), e);
        } 
        bound = (InetSocketAddress) server.localAddress();
        guestErrors = new GuestErrorLog(log, "serial " + describe());
        exposureWarning(bound).ifPresent(log::warn);
    }

    /** The one line logged when the socket listens beyond loopback. */
    static Optional<String> exposureWarning(InetSocketAddress bound) {
        if (bound.getAddress() != null && bound.getAddress().isLoopbackAddress()) return Optional.empty();
        return Optional.of("serial tcp=" + bound.getHostString() + ":" + bound.getPort() + " listens beyond loopback: whoever reaches it reads "
                + "the guest's console and types into it, without authentication (tcp=127.0.0.1:PORT keeps it on this host)");
    }

    /** The address actually bound (the port is chosen by the system when 0 was asked for). */
    public InetSocketAddress address() {
        return bound;
    }

    /** True while a client is connected. */
    public boolean hasClient() {
        Channel c = client;
        return c != null && c.isActive();
    }

    /** Output jhyve holds for the client now: the batch and what Netty has not written to the socket yet. */
    long bufferedBytes() {
        return buffered.get();
    }

    /** Bytes the guest wrote while the transmitter read full and the buffer was at its bound. */
    long dropped() {
        return dropped.get();
    }

    @Override
    public void transmit(byte b) {
        Channel c = client;
        if (c == null || !c.isActive()) return; // nobody connected: an unplugged line
        boolean flush;
        synchronized (batchLock) {
            if (buffered.get() >= MAX_BUFFERED) {
                dropped.incrementAndGet();
                guestErrors.report("the guest wrote THR while the transmitter was full (THRE clear); byte dropped");
                return;
            }
            batch[batchLength++] = b;
            buffered.incrementAndGet();
            flush = !flushQueued;
            flushQueued = true;
        }
        if (!flush) return;
        try {
            c.eventLoop().execute(() -> flushBatch(c));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.debug("serial {}: closed while transmitting", describe()); // the VM is going away: the byte goes nowhere
        }
    }

    /** On the event loop: the batch leaves as one message; its bytes count as buffered until Netty has written them. */
    private void flushBatch(Channel c) {
        ByteBuf out;
        synchronized (batchLock) {
            out = c.alloc().buffer(batchLength).writeBytes(batch, 0, batchLength);
            batchLength = 0;
            flushQueued = false;
        }
        int n = out.readableBytes();
        if (c != client || !c.isActive()) {
            out.release();
            written(n);
            return;
        }
        c.writeAndFlush(out).addListener(f -> written(n)); // written or failed (the client left): no longer held
    }

    private void written(int n) {
        if (buffered.addAndGet(-n) < FREE_BELOW && full.compareAndSet(true, false)) transmitReady.run();
    }

    /** Under the UART's lock: atomics only. Once it said false, it says true again below {@link #FREE_BELOW}. */
    @Override
    public boolean canTransmit() {
        if (!full.get()) {
            if (buffered.get() <= FULL_ABOVE) return true;
            full.set(true);
        }
        // Writes may have completed between the check and the flag, finding it clear: look again.
        return buffered.get() < FREE_BELOW && full.compareAndSet(true, false);
    }

    @Override
    public void onTransmitReady(Runnable ready) {
        this.transmitReady = ready;
    }

    @Override
    public void connect(SerialInput input) {
        this.input = input;
    }

    @Override
    public String describe() {
        return "tcp " + bound.getHostString() + ":" + bound.getPort();
    }

    @Override
    public void close() {
        SerialInput in = input;
        if (in != null) in.close();
        server.close().syncUninterruptibly();
        Channel c = client;
        if (c != null) c.close().syncUninterruptibly();
        shutdownThreads();
    }

    private void shutdownThreads() {
        inputThread.shutdownNow();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Serves one connection; a second one is closed at once. */
    private final class ClientHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            synchronized (TcpBackend.this) {
                if (client != null && client.isActive()) {
                    log.info("serial {}: refusing a second client from {}", describe(), ctx.channel().remoteAddress());
                    ctx.close();
                    return;
                }
                client = ctx.channel();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            synchronized (TcpBackend.this) {
                if (client == ctx.channel()) client = null;
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            byte[] data;
            try {
                data = new byte[buf.readableBytes()];
                buf.readBytes(data);
            } finally {
                buf.release();
            }
            SerialInput in = input;
            if (in == null || ctx.channel() != client) return;
            ctx.channel().config().setAutoRead(false); // resume once the guest has taken these bytes in
            inputThread.execute(() -> {
                try {
                    in.put(data, 0, data.length);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    ctx.channel().config().setAutoRead(true);
                }
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("serial {}: {}", describe(), cause.toString());
            ctx.close();
        }
    }
}
