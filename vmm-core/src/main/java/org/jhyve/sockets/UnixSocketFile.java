package org.jhyve.sockets;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Objects;
import java.util.Set;

/**
 * The file of a Unix-domain socket jhyve binds (the GDB stub's, a {@code unix:} network backend's). Before the
 * bind, {@link #prepare} removes what is at the path only when it is a socket nobody is bound to any more (one
 * left behind by a jhyve that was killed); anything else, a regular file, a directory, a symbolic link, a FIFO
 * or a socket some process still serves, is left as it is and refused. After the bind, {@link #claim} makes it
 * {@code 0600} and {@link #delete} removes it at the end, but only while it is still the file jhyve bound.
 *
 * <p>bind(2) never follows a symbolic link and fails on any existing name, so a name that appears between
 * {@link #prepare} and the bind fails the bind rather than being replaced. Between the bind and the chmod the
 * socket has the mode the umask gives; whoever serves it checks each peer's user as well (SO_PEERCRED).
 *
 * <p>Not thread-safe; a socket's owner calls it from the thread that opens and closes the socket.
 */
public final class UnixSocketFile {
    /** st_mode's file type bits, and the one for a socket (stat(2)). */
    private static final int S_IFMT = 0170000, S_IFSOCK = 0140000;

    private final Path path;
    private final Object fileKey;

    private UnixSocketFile(Path path, Object fileKey) {
        this.path = path;
        this.fileKey = fileKey;
    }

    /**
     * Makes {@code path} free for a bind: nothing there, or a stale socket, which is deleted. Fails with a
     * one-line message naming the path when something else is there, or a socket a process still serves.
     */
    public static void prepare(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException(path + " exists and is not a socket (" + kind(path) + "); not replacing it");
        }
        if (inUse(path)) throw new IOException(path + " is a socket a running process serves; not replacing it");
        Files.deleteIfExists(path);
    }

    /** Restricts the socket just bound at {@code path} to its owner (0600) and remembers which file it is. */
    public static UnixSocketFile claim(Path path) throws IOException {
        Files.setPosixFilePermissions(path, Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
        return new UnixSocketFile(path, fileKey(path));
    }

    public Path path() {
        return path;
    }

    /** Deletes the socket file if it is still the one bound (not a file someone put there since); never throws. */
    public void delete() {
        try {
            if (fileKey != null && fileKey.equals(fileKey(path))) Files.deleteIfExists(path);
        } catch (IOException e) {
            // Gone already, or not ours to delete: either way nothing is left to do.
        }
    }

    private static Object fileKey(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    /**
     * Whether a process is bound to the socket: a stream connect is refused (ECONNREFUSED) only when nobody is.
     * Any other answer, a connection, a datagram socket's EPROTOTYPE, EACCES, a full backlog, means someone is
     * (or may be), and the socket is left alone. Non-blocking, so a listener that never accepts cannot stall jhyve.
     */
    private static boolean inUse(Path path) {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.configureBlocking(false);
            probe.connect(UnixDomainSocketAddress.of(path));
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static String kind(Path path) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
        if (a.isSymbolicLink()) return "a symbolic link";
        if (a.isDirectory()) return "a directory";
        if (a.isRegularFile()) return "a regular file";
        return "a device or FIFO";
    }
}
