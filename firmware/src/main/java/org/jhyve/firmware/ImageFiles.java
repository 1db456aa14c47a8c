package org.jhyve.firmware;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads an image file whole, turning every I/O failure into a one-line message naming the file. */
final class ImageFiles {
    /** The largest array the JVM reliably allocates. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private ImageFiles() {}

    /** The file's bytes; refuses files larger than {@code limit} (guest RAM, where it could not fit anyway). */
    static byte[] read(Path path, long limit) {
        try {
            if (Files.isDirectory(path)) throw BootErrors.about(path, "is a directory, not a kernel or program");
            long size = Files.size(path);
            if (size > limit) {
                throw BootErrors.about(path, String.format("%d bytes is too big to load into %d bytes of guest RAM", size, limit));
            }
            if (size > MAX_ARRAY) throw BootErrors.about(path, size + " bytes is too big for jhyve to read");
            return Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw BootErrors.about(path, "no such file");
        } catch (AccessDeniedException e) {
            throw BootErrors.about(path, "permission denied");
        } catch (IOException e) {
            throw BootErrors.about(path, "cannot read: " + e.getMessage());
        }
    }
}
