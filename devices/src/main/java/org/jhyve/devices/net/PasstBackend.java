package org.jhyve.devices.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.posix.ChildProcess;
import org.jhyve.posix.ErrnoException;
import org.jhyve.posix.FdPair;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Posix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * User-mode networking: a NAT network without root or a tap, given by <a href="https://passt.top">passt</a> (the
 * user-mode network of podman and libvirt), which jhyve starts for the NIC and supervises. passt answers DHCP,
 * DNS and ARP itself and carries the guest's TCP, UDP and ICMP over ordinary sockets of the host; connections
 * to the gateway's address reach the host's loopback; {@link Forward}s make host ports reach the guest.
 *
 * <p>Frames pass over a Unix stream socket in QEMU's stream protocol (a 32-bit big-endian length before each
 * frame), through Netty's epoll transport. The socket is one end of a socket pair whose other end passt gets
 * as its descriptor 3 ({@code --fd 3}): no socket file exists that someone else could connect to or that
 * could be left behind, and passt, which then serves that one connection only, ends when jhyve's end closes,
 * however jhyve ends (SIGKILL included: the kernel closes the descriptor). passt runs in the foreground
 * ({@code -f}) as jhyve's child, in a session of its own; as root it drops to the user {@code nobody} itself.
 * It is told MTU 1500 ({@code -m 1500}): the device offers no receive offloads over this backend, so a guest
 * gets frames of at most 1514 bytes.
 *
 * <p>passt dying (killed, or failing) while the guest runs ends the link for good: {@link #awaitReadable}
 * throws, so the device tells the guest its link is down (with a configuration interrupt) and logs one line
 * naming passt's exit status and its last message; jhyve goes on running. At {@link #close} jhyve closes its
 * end, and passt is sent SIGTERM, then SIGKILL if it has not ended within a second.
 *
 * <p>Back-pressure both ways as the other backends ({@link ChannelFrames}): frames from passt wait in a bounded
 * queue, and the socket is not read while it is full (passt then waits, or drops what its sockets bring); frames
 * to passt that it does not take are dropped after a short wait.
 *
 * <p>Threads: one receive thread calls {@link #awaitReadable} and {@link #receive}; one transmit thread calls
 * {@link #send}; Netty's event loop reads the socket; a reaper thread waits for passt and a log thread reads
 * its messages. {@link #wakeReceiver} and {@link #close} from any thread.
 */
public final class PasstBackend implements NetBackend {
    private static final Logger log = LoggerFactory.getLogger(PasstBackend.class);
    static final int MAX_FRAME = 65550;
    static final int LENGTH_FIELD = 4;
    static final int MAX_PENDING_SEND = 256 * 1024;
    /** The descriptor number passt gets its end of the socket pair at. */
    static final int PASST_FD = 3;
    static final String INSTALL_HINT = "user-mode networking needs passt, which is not installed "
            + "(Debian and Ubuntu: apt install passt; Fedora: dnf install passt)";

    /** A host port forwarded to the guest: {@code hostfwd=tcp:HOSTADDR:HOSTPORT-:GUESTPORT} (or {@code udp:}). */
    public record Forward(boolean udp, String hostAddress, int hostPort, int guestPort) {
        /** passt's {@code -t}/{@code -u} argument: {@code ADDR/PORT:GUESTPORT}. */
        String passtSpec() { return hostAddress + "/" + hostPort + ":" + guestPort; }

        public String describe() { return (udp ? "udp:" : "tcp:") + hostAddress + ":" + hostPort + "-:" + guestPort; }
    }

    private final String name;
    private final ChannelFrames frames;
    private final EventLoopGroup group;
    private final Channel channel;
    private final ChildProcess passt;
    private final PasstLog passtLog;
    private final AtomicLong malformed;
    private final AtomicBoolean closing = new AtomicBoolean();
    /** Whether a receive thread has asked for frames: then the device logs the link going down, and this need not. */
    private volatile boolean polled;

    private PasstBackend(String name, ChannelFrames frames, EventLoopGroup group, Channel channel, ChildProcess passt, PasstLog passtLog,
            AtomicLong malformed) {
        this.name = name;
        this.malformed = malformed;
        this.frames = frames;
        this.group = group;
        this.channel = channel;
        this.passt = passt;
        this.passtLog = passtLog;
    }

    /** The passt program on {@code searchPath} (a PATH value), if any. */
    public static Optional<Path> locate(String searchPath) {
        if (searchPath == null) return Optional.empty();
        for (String dir : searchPath.split(":")) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, "passt");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }

    /**
     * Starts passt for the NIC {@code name} with {@code forwards}, found on the PATH. Throws, with one line a user
     * can act on, when passt is not installed, a forwarded host port is taken, or passt cannot start.
     */
    public static PasstBackend start(String name, List<Forward> forwards) throws IOException {
        return start(name, System.getenv("PATH"), forwards);
    }

    /** As {@link #start(String, List)}, looking for passt on {@code searchPath}. */
    static PasstBackend start(String name, String searchPath, List<Forward> forwards) throws IOException {
        Path program = locate(searchPath).orElseThrow(() -> new IOException(INSTALL_HINT));
        return start(name, program, forwards);
    }

    /** As {@link #start(String, List)} with the passt program given. */
    public static PasstBackend start(String name, Path program, List<Forward> forwards) throws IOException {
        if (!Epoll.isAvailable()) throw new IOException("user-mode networking needs Netty's epoll transport: " + Epoll.unavailabilityCause());
        // passt would exit at once on a port it cannot bind, after the VM started: say so now, naming the option.
        for (Forward f : forwards) HostPorts.checkFree(f);
        List<String> argv = new ArrayList<>(List.of(program.toString(), "-f", "-q", "--fd", String.valueOf(PASST_FD), "-m", "1500"));
        for (Forward f : forwards) argv.addAll(List.of(f.udp() ? "-u" : "-t", f.passtSpec()));

        FdPair link = FdPair.unixStream();
        FdPair messages;
        try {
            // jhyve's end goes to Netty's event loop, which must never block: a blocking write there, with passt's
            // socket buffer full, stopped the loop reading, and passt, unable to write to jhyve, stopped reading
            // too (a TCP download in a guest hung half-way). passt's end keeps its own mode.
            Posix.setNonBlocking(link.first());
            messages = FdPair.pipe();
        } catch (ErrnoException e) {
            closeBoth(link);
            throw e;
        }
        int nul = -1;
        ChildProcess child;
        try {
            nul = Posix.open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC);
            child = ChildProcess.spawn(argv, List.of(new ChildProcess.Fd(0, nul), new ChildProcess.Fd(1, messages.second()),
                    new ChildProcess.Fd(2, messages.second()), new ChildProcess.Fd(PASST_FD, link.second())));
        } catch (IOException e) {
            closeBoth(link);
            closeBoth(messages);
            if (nul >= 0) Posix.closeQuietly(nul);
            throw new IOException("cannot start " + program + ": " + e.getMessage(), e);
        }
        // Only passt holds these now; jhyve keeps its own ends.
        Posix.closeQuietly(nul);
        Posix.closeQuietly(link.second());
        Posix.closeQuietly(messages.second());
        PasstLog passtLog = PasstLog.start(name, child, messages.first());

        ChannelFrames frames = new ChannelFrames(name + " (passt)");
        AtomicLong malformed = new AtomicLong();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, Thread.ofPlatform().name("jhyve-net-" + name).daemon().factory(),
                EpollIoHandler.newFactory());
        EpollDomainSocketChannel channel = new EpollDomainSocketChannel(link.first());
        PasstBackend[] self = new PasstBackend[1];
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(MAX_PENDING_SEND / 2, MAX_PENDING_SEND));
        channel.pipeline().addLast(new LengthFieldBasedFrameDecoder(LENGTH_FIELD + MAX_FRAME, 0, LENGTH_FIELD, 0, LENGTH_FIELD),
                        new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ByteBuf frame = (ByteBuf) msg;
                                if (frame.readableBytes() < 14) { // not even an Ethernet header
                                    malformed.incrementAndGet();
                                    frame.release();
                                } else {
                                    frames.offer(ctx.channel(), frame);
                                }
                            }

                            @Override
                            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                                frames.writabilityChanged();
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                if (self[0] != null) self[0].linkLost("passt closed its socket");
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                // A length over the largest frame: the decoder skips that frame and goes on.
                                if (cause instanceof TooLongFrameException) malformed.incrementAndGet();
                                // passt gone (a reset as it dies): the link is lost, which the device reports once
                                else if (cause instanceof IOException && self[0] != null) self[0].linkLost("passt's socket: " + cause.getMessage());
                                else log.warn("{}: passt's socket: {}", name, cause.toString());
                            }
                        });
        try {
            group.register(channel).sync();
        } catch (Exception e) {
            channel.close();
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            child.signal(ChildProcess.SIGKILL);
            throw new IOException("cannot use passt's socket: " + e.getMessage(), e);
        }
        frames.attach(channel);
        PasstBackend backend = new PasstBackend(name, frames, group, channel, child, passtLog, malformed);
        self[0] = backend;
        if (!channel.isActive()) backend.linkLost("passt closed its socket");
        child.onExit().whenComplete((status, failure) -> backend.passtEnded(status, failure));
        log.debug("{}: passt {} started: {}", name, child, String.join(" ", argv));
        return backend;
    }

    private static void closeBoth(FdPair pair) {
        Posix.closeQuietly(pair.first());
        Posix.closeQuietly(pair.second());
    }

    /** The reaper: passt ended. Unless jhyve is closing, the link is gone for good. */
    private void passtEnded(Integer status, Throwable failure) {
        if (closing.get()) return;
        passtLog.awaitEnd(); // its last words explain the status
        String why = "passt " + passt + (failure != null ? " could not be waited for: " + failure : " exited with status " + status)
                + passtLog.lastLine().map(l -> " (" + l + ")").orElse("");
        linkLost(why);
    }

    private void linkLost(String why) {
        if (closing.get() || frames.failure() != null) return;
        frames.fail(new IOException(why));
        // The device logs the link going down once a receive thread has met the failure; before the guest's
        // driver is up nobody would.
        if (!polled) log.warn("{}: {}; the guest's link is down", name, why);
    }

    /** The socket to passt (for tests: its event loop must stay free to run whatever passt does). */
    Channel channel() { return channel; }

    /** The passt process (for tests and the pid a user may want). */
    public ChildProcess process() { return passt; }

    @Override public boolean vnetHeader() { return false; }

    @Override public long offloadFeatures() { return 0; }

    @Override
    public boolean awaitReadable(int timeoutMillis) throws IOException {
        polled = true;
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

    @Override
    public void send(List<MemorySegment> buffers) throws IOException {
        frames.admit();
        ByteBuf frame = frames.gather(LENGTH_FIELD, buffers);
        frame.setInt(0, frame.readableBytes() - LENGTH_FIELD); // QEMU's stream protocol: big-endian length first
        frames.write(frame);
    }

    /** Frames from passt dropped as malformed (shorter than an Ethernet header, or longer than the largest frame). */
    public long malformed() { return malformed.get(); }

    /** Frames to passt dropped: it took none for a while, or it is gone. */
    public long sendDropped() { return frames.sendDropped(); }

    /** Bytes of frames to passt that Netty holds (what a passt that stops reading makes grow, up to the high water mark). */
    public long pendingSendBytes() { return frames.pendingSendBytes(); }

    /** Whether the link is gone for good: passt ended or closed its socket. */
    @Override public boolean failed() { return frames.failure() != null; }

    @Override public String describe() { return "passt"; }

    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) return;
        // Bounded waits: closing must end even if the event loop were stuck (it once sat in a blocking write,
        // and jhyve hung at exit); passt is ended below whatever happened here.
        if (!channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS)) log.warn("{}: passt's socket did not close within 1 s", name);
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        frames.close();
        // passt ends by itself once its connection closes; SIGTERM and SIGKILL are for one that does not.
        if (!ended(200)) {
            passt.signal(ChildProcess.SIGTERM);
            if (!ended(1000)) {
                passt.signal(ChildProcess.SIGKILL);
                if (!ended(1000)) log.warn("{}: passt {} did not end after SIGKILL", name, passt);
            }
        }
        passtLog.awaitEnd();
    }

    private boolean ended(long millis) {
        try {
            passt.onExit().get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true; // could not be waited for: nothing more to do about it
        }
    }
}
