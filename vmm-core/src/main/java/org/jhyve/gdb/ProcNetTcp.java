package org.jhyve.gdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * Which user owns a TCP socket of this network namespace, from Linux's /proc/net/tcp and /proc/net/tcp6: TCP has
 * no SO_PEERCRED, but a loopback peer's socket is listed there with the uid of the process that made it. The
 * peer's socket is the one whose local end is our remote end and whose remote end is our local end.
 *
 * <p>Each line is {@code sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...}; addresses are
 * {@code HEX:PORT}, the address as 32-bit words in host byte order (one for IPv4, four for IPv6), the port in
 * hex. A Java client's socket is usually IPv6 with IPv4-mapped addresses, so both files are read. Sockets in
 * TIME_WAIT carry no owner (uid 0) and are skipped.
 */
final class ProcNetTcp {
    private ProcNetTcp() {}

    private static final String TIME_WAIT = "06";
    private static final List<Path> TABLES = List.of(Path.of("/proc/self/net/tcp"), Path.of("/proc/self/net/tcp6"));

    /** The uid owning the socket whose local address is {@code socket} and whose peer is {@code peer}, if listed. */
    static OptionalInt ownerOf(InetSocketAddress socket, InetSocketAddress peer) {
        for (Path table : TABLES) {
            if (!Files.isReadable(table)) continue;
            try (Stream<String> lines = Files.lines(table)) {
                OptionalInt uid = find(lines, socket, peer);
                if (uid.isPresent()) return uid;
            } catch (IOException | UncheckedIOException e) {
                // A table that cannot be read lists nobody; the caller refuses a peer it cannot place.
            }
        }
        return OptionalInt.empty();
    }

    /** {@link #ownerOf} on the lines of one table (its header line included). */
    static OptionalInt find(Stream<String> lines, InetSocketAddress socket, InetSocketAddress peer) {
        return lines.map(String::trim).map(l -> l.split("\\s+"))
                .filter(f -> f.length >= 10 && f[0].endsWith(":") && !TIME_WAIT.equals(f[3]))
                .filter(f -> socket.equals(address(f[1])) && peer.equals(address(f[2])))
                .mapToInt(f -> Integer.parseUnsignedInt(f[7]))
                .findFirst();
    }

    /** {@code HEX:PORT} as the kernel prints it; null when it is not one. */
    static InetSocketAddress address(String field) {
        int colon = field.indexOf(':');
        if (colon != 8 && colon != 32 || field.length() != colon + 5) return null;
        try {
            byte[] bytes = new byte[colon / 2];
            ByteBuffer out = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
            for (int word = 0; word < colon; word += 8) out.putInt((int) Long.parseLong(field.substring(word, word + 8), 16));
            int port = HexFormat.fromHexDigits(field, colon + 1, colon + 5);
            return new InetSocketAddress(InetAddress.getByAddress(bytes), port); // an IPv4-mapped address becomes IPv4
        } catch (NumberFormatException | UnknownHostException e) {
            return null;
        }
    }
}
