package org.jhyve.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jhyve.trace.TraceConfig;
import org.jhyve.trace.TraceFilter;

/** {@code --trace FILE} and {@code --trace-filter SPEC}, checked before anything is created. */
final class TraceSpec {
    private TraceSpec() {}

    static Optional<TraceConfig> parse(String file, String filter) throws UsageException {
        if (file == null) {
            if (filter != null) throw new UsageException("--trace-filter " + filter, "needs --trace FILE (where the lines go)");
            return Optional.empty();
        }
        Path path = Path.of(file);
        if (Files.isDirectory(path)) throw new UsageException("--trace " + file, "is a directory");
        Path parent = path.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) throw new UsageException("--trace " + file, "no such directory " + parent);
        if (Files.exists(path) ? !Files.isWritable(path) : !Files.isWritable(parent)) {
            throw new UsageException("--trace " + file, "not writable");
        }
        if (filter == null) return Optional.of(TraceConfig.everything(path));
        try {
            return Optional.of(new TraceConfig(path, TraceFilter.parse(filter)));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--trace-filter " + filter, e.getMessage());
        }
    }
}
