package org.jhyve.firmware;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads an image file whole, turning every I/O failure into a one-line message naming the file.
 *
 * <p>Only regular files are read, and never more than the caller's limit (guest RAM): a character device
 * such as /dev/zero never ends, and opening a FIFO with no writer blocks, so both are refused before the
 * file is opened. A regular file that grows while it is read (or is swapped for a device between the
 * check and the open) is still read no further than the limit plus one byte, which is enough to refuse it.
 * (A FIFO swapped in between the check and the open would still block the open: whoever can do that
 * chooses the kernel anyway.)
 */
final class ImageFiles {
    /** The largest array the JVM reliably allocates. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private ImageFiles() {}

    /** The file's bytes; refuses files larger than {@code limit} (guest RAM, where it could not fit anyway). */
    static byte[] read(Path path, long limit) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (attributes.isDirectory()) throw BootErrors.about(path, "is a directory, not a kernel or program");
            if (!attributes.isRegularFile()) {
                throw BootErrors.about(path, "is not a regular file (a device, FIFO or socket): jhyve loads images from regular files only");
            }
            long size = attributes.size();
            if (size > limit) throw tooBig(path, size + " bytes", limit);
            if (size > MAX_ARRAY) throw BootErrors.about(path, size + " bytes is too big for jhyve to read");
            long cap = Math.min(limit, MAX_ARRAY);
            try (InputStream in = Files.newInputStream(path)) {
                byte[] bytes = in.readNBytes((int) cap);
                if (in.read() >= 0) throw tooBig(path, "more than " + cap + " bytes (it grew while jhyve read it)", limit);
                return bytes;
            }
        } catch (NoSuchFileException e) {
            throw BootErrors.about(path, "no such file");
        } catch (AccessDeniedException e) {
            throw BootErrors.about(path, "permission denied");
        } catch (IOException e) {
            throw BootErrors.about(path, "cannot read: " + e.getMessage());
        }
    }

    private static org.jhyve.boot.BootException tooBig(Path path, String size, long limit) {
        return BootErrors.about(path, String.format("%s is too big to load into %d bytes of guest RAM", size, limit));
    }
}
