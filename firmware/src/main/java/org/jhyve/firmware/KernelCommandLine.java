package org.jhyve.firmware;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A Linux command line as the bytes the kernel gets: UTF-8 (the kernel passes bytes through), no NUL
 * (the kernel would stop reading there and drop the rest without a word), at most what the kernel takes.
 */
final class KernelCommandLine {
    private KernelCommandLine() {}

    /** The bytes to write, without the terminating NUL; {@code max} counts them, the NUL excluded. */
    static byte[] encode(Path kernel, String cmdline, long max) {
        int nul = cmdline.indexOf('\0');
        if (nul >= 0) throw BootErrors.about(kernel, "command line holds a NUL character at offset " + nul + ": the kernel would ignore the rest");
        byte[] bytes = cmdline.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > max) {
            throw BootErrors.about(kernel, String.format("command line is %d bytes; this kernel takes at most %d", bytes.length, max));
        }
        return bytes;
    }
}
