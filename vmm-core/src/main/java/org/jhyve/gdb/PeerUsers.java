package org.jhyve.gdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.Optional;
import java.util.OptionalInt;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Whether the process at the other end of an accepted connection runs as jhyve's own user, the only one the
 * stub serves: whoever holds the stub reads and writes all of the guest's memory and registers. On a Unix
 * socket the kernel says who connected (SO_PEERCRED); on loopback TCP the peer's socket is looked up in
 * /proc/net/tcp ({@link ProcNetTcp}). A peer that cannot be placed is refused. Root is served only when jhyve
 * runs as root.
 */
final class PeerUsers {
    private final int ownUid;
    private final UserPrincipal ownUser;

    private PeerUsers(int ownUid, UserPrincipal ownUser) {
        this.ownUid = ownUid;
        this.ownUser = ownUser;
    }

    /** jhyve's effective user, which owns the sockets and files it makes. */
    static PeerUsers ofThisProcess() {
        try {
            int uid = effectiveUid(Files.readAllLines(Path.of("/proc/self/status")));
            // A numeric name is taken as the uid when no user has that name (UserPrincipalLookupService).
            UserPrincipal user = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(Integer.toString(uid));
            return new PeerUsers(uid, user);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tell which user jhyve runs as: " + e.getMessage(), e);
        }
    }

    /** The second field of the {@code Uid:} line (real, effective, saved, filesystem). */
    static int effectiveUid(Iterable<String> statusLines) throws IOException {
        for (String line : statusLines) {
            if (line.startsWith("Uid:")) return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
        }
        throw new IOException("no Uid: line in /proc/self/status");
    }

    /** Why {@code connection} must be refused, or empty when its peer is jhyve's user. */
    Optional<String> refusal(SocketChannel connection) throws IOException {
        if (connection.getRemoteAddress() instanceof InetSocketAddress remote) {
            OptionalInt uid = ProcNetTcp.ownerOf(remote, (InetSocketAddress) connection.getLocalAddress());
            if (uid.isEmpty()) return Optional.of("a connection from " + remote + " whose owner is not listed in /proc/net/tcp");
            if (uid.getAsInt() == ownUid) return Optional.empty();
            return Optional.of("a connection from uid " + uid.getAsInt() + " (jhyve runs as uid " + ownUid + ")");
        }
        UnixDomainPrincipal peer = connection.getOption(ExtendedSocketOptions.SO_PEERCRED);
        if (peer.user().equals(ownUser)) return Optional.empty();
        return Optional.of("a connection from user " + peer.user().getName() + " (jhyve runs as uid " + ownUid + ")");
    }
}
