package org.jhyve.gdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Optional;
import org.jhyve.sockets.UnixSocketFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A GDB remote stub listening on loopback TCP (xhyve's {@code -g PORT}) or on a Unix socket of mode 0600 (gdb's
 * {@code target remote /path}): one gdb at a time; when it detaches or its connection drops, the target runs
 * on and the next gdb may attach. A second gdb that connects meanwhile waits in the listen backlog until the
 * first is done.
 *
 * <p>Only jhyve's own user is served ({@link PeerUsers}): a connection from anyone else is closed before the
 * target hears of it, so it neither stops the guest nor sees a byte of it. The address is trusted: whoever
 * passes a TCP address that is not loopback gets peers that cannot be placed, and refused.
 *
 * <p>Threads: {@link #serve} starts the one thread that accepts and runs each session; {@link #close} may be
 * called from any thread.
 */
public final class GdbServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GdbServer.class);
    /** How long {@link #close()} lets a session send what it still has (the final exit reply). */
    private static final Duration DRAIN = Duration.ofSeconds(2);
    /** Refusals logged at warn before the rest go to debug: a local user must not be able to flood the log. */
    private static final int LOUD_REFUSALS = 10;

    private final ServerSocketChannel listener;
    private final SocketAddress address;
    private final Optional<UnixSocketFile> socketFile;
    private final PeerUsers peers;
    private Thread acceptThread;
    private volatile boolean closed;
    private volatile SocketChannel client;
    private volatile GdbConnection session;
    private int refusals; // accept thread only

    private GdbServer(ServerSocketChannel listener, Optional<UnixSocketFile> socketFile, PeerUsers peers) throws IOException {
        this.listener = listener;
        this.address = listener.getLocalAddress();
        this.socketFile = socketFile;
        this.peers = peers;
    }

    /**
     * Listens on {@code address}: an {@link InetSocketAddress} (port 0: any free one) or a
     * {@link UnixDomainSocketAddress} (see {@link UnixSocketFile} for what may be at its path). Fails with a
     * one-line message, e.g. a port in use or a path that is not a stale socket.
     */
    public static GdbServer listen(SocketAddress address) {
        PeerUsers peers = PeerUsers.ofThisProcess();
        return switch (address) {
            case InetSocketAddress inet -> listenTcp(inet, peers);
            case UnixDomainSocketAddress unix -> listenUnix(unix, peers);
            default -> throw new IllegalArgumentException("gdb stub: not a TCP or Unix socket address: " + address);
        };
    }

    private static GdbServer listenTcp(InetSocketAddress address, PeerUsers peers) {
        if (address.getPort() < 0 || address.getPort() > 65535) throw new IllegalArgumentException("gdb port must be 0-65535: " + address.getPort());
        try {
            ServerSocketChannel s = ServerSocketChannel.open();
            try {
                s.setOption(StandardSocketOptions.SO_REUSEADDR, true); // a stub restarted on the same port must not wait for TIME_WAIT
                s.bind(address, 1);
                return new GdbServer(s, Optional.empty(), peers);
            } catch (IOException e) {
                s.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("gdb port " + address.getPort() + ": " + e.getMessage(), e);
        }
    }

    private static GdbServer listenUnix(UnixDomainSocketAddress address, PeerUsers peers) {
        try {
            UnixSocketFile.prepare(address.getPath());
            ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                s.bind(address, 1);
                return new GdbServer(s, Optional.of(UnixSocketFile.claim(address.getPath())), peers);
            } catch (IOException e) {
                s.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("gdb socket " + address.getPath() + ": " + e.getMessage(), e);
        }
    }

    /** Where it listens: an {@link InetSocketAddress} with the port actually bound, or the Unix socket's address. */
    public SocketAddress address() {
        return address;
    }

    /** Serves {@code target} on a thread of its own until {@link #close()}. */
    public synchronized void serve(GdbTarget target) {
        if (acceptThread != null) throw new IllegalStateException("already serving");
        acceptThread = Thread.ofPlatform().daemon().name("jhyve-gdb").start(() -> acceptLoop(target));
    }

    private void acceptLoop(GdbTarget target) {
        while (!closed) {
            try (SocketChannel s = listener.accept()) {
                Optional<String> refusal = peers.refusal(s);
                if (refusal.isPresent()) {
                    logRefusal(refusal.get());
                    continue;
                }
                if (s.getRemoteAddress() instanceof InetSocketAddress) s.setOption(StandardSocketOptions.TCP_NODELAY, true); // replies are small and each one is waited for
                client = s;
                log.info("gdb connected from {}", describe(s.getRemoteAddress()));
                GdbConnection connection = new GdbConnection(Channels.newInputStream(s), Channels.newOutputStream(s), target);
                session = connection;
                GdbConnection.End end = connection.serve();
                log.info("gdb session ended: {}", end.name().toLowerCase(java.util.Locale.ROOT));
                if (end == GdbConnection.End.DISCONNECTED) target.detach();
                if (end == GdbConnection.End.KILLED) return;
            } catch (IOException e) {
                if (!closed) log.warn("gdb stub: {}", e.getMessage());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("gdb session failed", e);
            } finally {
                client = null;
                session = null;
            }
        }
    }

    private void logRefusal(String what) {
        refusals++;
        if (refusals <= LOUD_REFUSALS) {
            log.warn("gdb stub: refused {}: the stub serves only jhyve's own user{}", what,
                    refusals == LOUD_REFUSALS ? " (further refusals are logged at debug)" : "");
        } else {
            log.debug("gdb stub: refused {} ({} refusals so far)", what, refusals);
        }
    }

    private static String describe(SocketAddress remote) {
        return remote instanceof InetSocketAddress ? remote.toString() : "the Unix socket";
    }

    /** Stops listening; a connected session first sends what it has queued (the exit reply), then is closed. */
    @Override
    public void close() {
        closed = true;
        GdbConnection s = session;
        Thread t;
        synchronized (this) {
            t = acceptThread;
        }
        if (s != null) s.shutDown();
        try {
            if (t != null && s != null) t.join(DRAIN);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(client);
        closeQuietly(listener); // ends an accept in progress
        socketFile.ifPresent(UnixSocketFile::delete);
        if (t != null) {
            try {
                t.join(DRAIN);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeQuietly(java.nio.channels.Channel c) {
        if (c == null) return;
        try {
            c.close();
        } catch (IOException e) {
            log.debug("closing a gdb socket: {}", e.getMessage());
        }
    }
}
