package org.jhyve.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code -F}: jhyve's pid in a file for the life of the VM, removed on the way out. */
final class PidFile implements AutoCloseable {
    private final Path path;

    PidFile(Path path) throws UsageException {
        this.path = path;
        try {
            Files.writeString(path, ProcessHandle.current().pid() + "\n");
        } catch (IOException e) {
            throw new UsageException("-F " + path, "cannot write the pid file: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // Best effort on the way out; a stale pid file names a process that is gone.
        }
    }
}
