package org.jhyve.devices.uart;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The port on a listening TCP socket ({@code tcp=IP:PORT}), one client at a time, like a serial console
 * server. Output while nobody is connected is dropped, as on an unplugged serial line. Input is handed
 * to a separate thread that may wait for the guest to read (back-pressure), so the event loop never
 * blocks; socket reads stop while it waits.
 */
public final class TcpBackend implements SerialBackend {
    private static final Logger log = LoggerFactory.getLogger(TcpBackend.class);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ExecutorService inputThread = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("jhyve-serial-tcp").unstarted(r));
    private final Channel server;
    private final InetSocketAddress bound;
    private volatile Channel client;
    private volatile SerialInput input;

    public TcpBackend(InetSocketAddress address) throws IOException {
        try {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new ClientHandler());
                        }
                    })
                    .bind(address).sync().channel();
        } catch (Exception e) {
            shutdownThreads();
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort() + ": " + e.getMessage(), e);
        } 
        bound = (InetSocketAddress) server.localAddress();
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

    @Override
    public void transmit(byte b) {
        Channel c = client;
        if (c != null && c.isActive()) c.writeAndFlush(c.alloc().buffer(1).writeByte(b));
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
