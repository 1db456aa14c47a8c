package org.jhyve.devices.block;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jhyve.vm.DeviceConfigException;

/**
 * What may serve as a disk image and what its size means, for every disk emulation alike: a regular file or
 * a block device (a character device, FIFO or socket has no fixed size and no positional I/O; opening one
 * can even have side effects, so it is refused before it is opened). An image holding no whole sector is
 * refused (except where an empty image means something: a CD-ROM drive without a disc); bytes after the last
 * whole sector are accepted but unreachable, and the caller is told so in a warning it logs once.
 */
public final class ImageFiles {
    /** What a path names, as {@code stat} says. */
    public enum Kind {
        REGULAR_FILE("a regular file"), BLOCK_DEVICE("a block device"), DIRECTORY("a directory"),
        CHARACTER_DEVICE("a character device"), FIFO("a FIFO"), SOCKET("a socket"), MISSING("missing"), UNKNOWN("of an unknown kind");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        public boolean isDisk() {
            return this == REGULAR_FILE || this == BLOCK_DEVICE;
        }
    }

    private static final int S_IFMT = 0170000, S_IFSOCK = 0140000, S_IFREG = 0100000, S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000, S_IFCHR = 0020000, S_IFIFO = 0010000;

    private ImageFiles() {}

    /** The kind of file {@code path} names, following symbolic links. */
    public static Kind kind(Path path) {
        if (!Files.exists(path)) return Kind.MISSING;
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return Files.isRegularFile(path) ? Kind.REGULAR_FILE : Files.isDirectory(path) ? Kind.DIRECTORY : Kind.UNKNOWN;
        }
        return switch (mode & S_IFMT) {
            case S_IFREG -> Kind.REGULAR_FILE;
            case S_IFBLK -> Kind.BLOCK_DEVICE;
            case S_IFDIR -> Kind.DIRECTORY;
            case S_IFCHR -> Kind.CHARACTER_DEVICE;
            case S_IFIFO -> Kind.FIFO;
            case S_IFSOCK -> Kind.SOCKET;
            default -> Kind.UNKNOWN;
        };
    }

    /** Refuses, before anything opens it, a path that names something other than a regular file or a block device. */
    public static void requireDisk(String path) throws IOException {
        Kind kind = kind(Path.of(path));
        if (kind == Kind.MISSING) return; // open says so, with its errno
        if (kind == Kind.DIRECTORY) throw new IOException(path + " is a directory");
        if (!kind.isDisk()) throw new IOException(path + " is " + kind.description + ", not a disk image: give a regular file or a block device");
    }

    /**
     * Checks an image of {@code size} bytes used with {@code sectorSize}-byte sectors: refuses one without a
     * whole sector (an empty one only when {@code emptyAllowed} is false), and returns the warning to log
     * when bytes after the last whole sector cannot be reached.
     */
    public static Optional<String> checkSize(String path, long size, int sectorSize, boolean emptyAllowed) throws IOException {
        if (size == 0) {
            if (emptyAllowed) return Optional.empty();
            throw new IOException(path + " is empty (0 bytes): a disk needs at least one " + sectorSize + "-byte sector (truncate -s SIZE makes one)");
        }
        if (size < sectorSize) throw new IOException(path + " is " + size + " bytes, less than one " + sectorSize + "-byte sector");
        long tail = size % sectorSize;
        if (tail == 0) return Optional.empty();
        return Optional.of(path + ": the last " + tail + " bytes are not a whole " + sectorSize + "-byte sector and are not visible to the guest"
                + " (it sees " + size / sectorSize + " sectors)");
    }

    /**
     * The command-line check of an image for {@code emulation}, opening nothing: it exists, is a regular file
     * or a block device, is readable (and writable unless {@code readOnly}), and a regular file's size passes
     * {@link #checkSize} (and is a multiple of 4 KiB for {@code direct}). A block device's size is only known
     * once it is open, so it is checked then.
     */
    public static void check(String emulation, String path, boolean readOnly, boolean direct, int sectorSize, boolean emptyAllowed) {
        Path p = Path.of(path);
        try {
            if (!Files.exists(p)) throw new IOException(path + ": no such file");
            requireDisk(path);
            if (!Files.isReadable(p)) throw new IOException(path + ": not readable");
            if (!readOnly && !Files.isWritable(p)) throw new IOException(path + ": not writable (add ,ro for a read-only disk)");
            if (Files.isRegularFile(p)) {
                long size = Files.size(p);
                checkSize(path, size, sectorSize, emptyAllowed);
                if (direct) FileBlockBackend.checkDirectSize(path, size);
            }
        } catch (IOException e) {
            throw new DeviceConfigException(emulation + ": " + e.getMessage(), e);
        }
    }
}
