import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The host end of scripts/bench-net, run as a single-file program (java NetPeer.java ...) inside the
 * benchmark's network namespace. Times are taken here, on the host, so a guest clock never enters them.
 *
 *   java NetPeer.java LISTEN_IP LISTEN_PORT GUEST_IP GUEST_PORT BYTES
 *
 * 1. guest -> host: accepts one connection on LISTEN_IP:LISTEN_PORT and reads BYTES (or to EOF), then
 *    closes; the time runs from the first byte to the last.
 * 2. host -> guest: connects to GUEST_IP:GUEST_PORT (retrying while the guest starts its listener), writes
 *    BYTES, shuts its side down and reads until the guest closes (the guest read everything by then).
 * Prints "net g2h_bytes=N g2h_mbs=X h2g_bytes=N h2g_mbs=Y" (MB = 10^6 bytes).
 */
public final class NetPeer {
    public static void main(String[] args) throws Exception {
        if (args.length != 5) throw new IllegalArgumentException("usage: NetPeer LISTEN_IP LISTEN_PORT GUEST_IP GUEST_PORT BYTES");
        InetAddress listen = InetAddress.getByName(args[0]), guest = InetAddress.getByName(args[2]);
        int listenPort = Integer.parseInt(args[1]), guestPort = Integer.parseInt(args[3]);
        long bytes = Long.parseLong(args[4]);
        byte[] buffer = new byte[256 << 10];

        long received, g2hNanos;
        try (ServerSocket server = new ServerSocket(listenPort, 1, listen)) {
            System.err.println("netpeer: listening on " + args[0] + ":" + listenPort);
            try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                int n = in.read(buffer);
                long start = System.nanoTime();
                received = Math.max(n, 0);
                // Up to BYTES, not EOF: busybox nc need not close when its input ends; this side closes.
                while (n > 0 && received < bytes) {
                    n = in.read(buffer);
                    if (n > 0) received += n;
                }
                g2hNanos = System.nanoTime() - start;
            }
        }

        Socket s = connectWithRetry(new InetSocketAddress(guest, guestPort), 120_000);
        long h2gNanos;
        try (s; OutputStream out = s.getOutputStream(); InputStream in = s.getInputStream()) {
            long start = System.nanoTime();
            for (long left = bytes; left > 0; ) {
                int n = (int) Math.min(buffer.length, left);
                out.write(buffer, 0, n);
                left -= n;
            }
            s.shutdownOutput();
            while (in.read(buffer) >= 0) { } // the guest closes once it has read everything
            h2gNanos = System.nanoTime() - start;
        }
        System.out.printf("net g2h_bytes=%d g2h_mbs=%.4f h2g_bytes=%d h2g_mbs=%.4f%n",
                received, received * 1e3 / g2hNanos, bytes, bytes * 1e3 / h2gNanos);
    }

    private static Socket connectWithRetry(InetSocketAddress to, long timeoutMillis) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            Socket s = new Socket();
            try {
                s.connect(to, 1000);
                return s;
            } catch (IOException e) {
                s.close();
                if (System.currentTimeMillis() > deadline) throw e;
                Thread.sleep(100);
            }
        }
    }
}
