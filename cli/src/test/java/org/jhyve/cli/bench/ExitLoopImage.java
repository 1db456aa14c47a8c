package org.jhyve.cli.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * exit-loop.bin as a file, since {@link org.jhyve.firmware.KexecLoader} (like xhyve's -f kexec) boots
 * files: the one given, or the guests module's classpath resource copied to a temporary file that
 * {@link #close()} deletes.
 */
record ExitLoopImage(Path path, boolean temporary) implements AutoCloseable {
    static final String RESOURCE = "/guests/exit-loop.bin";

    static ExitLoopImage locate(Optional<Path> given) {
        if (given.isPresent()) return new ExitLoopImage(given.get(), false);
        try (InputStream in = ExitLoopImage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the classpath (the guests module): pass --image FILE");
            }
            Path file = Files.createTempFile("jhyve-exit-loop", ".bin");
            Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return new ExitLoopImage(file, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + RESOURCE, e);
        }
    }

    @Override
    public void close() throws IOException {
        if (temporary) Files.deleteIfExists(path);
    }
}
