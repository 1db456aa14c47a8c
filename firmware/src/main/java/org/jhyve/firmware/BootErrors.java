package org.jhyve.firmware;

import java.nio.file.Path;
import org.jhyve.boot.BootException;

/** Every loader message has the same shape: "FILE: problem", one line. */
final class BootErrors {
    private BootErrors() {}

    static BootException about(Path path, String problem) {
        return new BootException(path + ": " + problem);
    }
}
