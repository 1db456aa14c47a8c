package org.jhyve.gdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A GDB remote stub listening on a TCP port (xhyve's {@code -g}): one gdb at a time; when it detaches or
 * its connection drops, the target runs on and the next gdb may attach. A second gdb that connects meanwhile
 * waits in the listen backlog until the first is done.
 */
public final class GdbServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GdbServer.class);
    /** How long {@link #close()} lets a session send what it still has (the final exit reply). */
    private static final Duration DRAIN = Duration.ofSeconds(2);

    private final ServerSocket listener;
    private Thread acceptThread;
    private volatile boolean closed;
    private volatile Socket client;
    private volatile GdbConnection session;

    private GdbServer(ServerSocket listener) {
        this.listener = listener;
    }

    /** Listens on {@code address}:{@code port} (0: any free port). Fails with a one-line message, e.g. a port in use. */
    public static GdbServer listen(InetAddress address, int port) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("gdb port must be 0-65535: " + port);
        try {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true); // a stub restarted on the same port must not wait for TIME_WAIT
            try {
                s.bind(new InetSocketAddress(address, port), 1);
            } catch (IOException e) {
                s.close();
                throw e;
            }
            return new GdbServer(s);
        } catch (IOException e) {
            throw new UncheckedIOException("gdb port " + port + ": " + e.getMessage(), e);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /** Serves {@code target} on a thread of its own until {@link #close()}. */
    public synchronized void serve(GdbTarget target) {
        if (acceptThread != null) throw new IllegalStateException("already serving");
        acceptThread = Thread.ofPlatform().daemon().name("jhyve-gdb").start(() -> acceptLoop(target));
    }

    private void acceptLoop(GdbTarget target) {
        while (!closed) {
            try (Socket s = listener.accept()) {
                s.setTcpNoDelay(true); // replies are small and each one is waited for
                client = s;
                log.info("gdb connected from {}", s.getRemoteSocketAddress());
                GdbConnection connection = new GdbConnection(s.getInputStream(), s.getOutputStream(), target);
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
        try {
            listener.close();
        } catch (IOException e) {
            log.debug("closing the gdb listener: {}", e.getMessage());
        }
        if (t != null) {
            try {
                t.join(DRAIN);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeQuietly(Socket s) {
        if (s == null) return;
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
