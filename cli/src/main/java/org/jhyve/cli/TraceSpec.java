package org.jhyve.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jhyve.config.ConfigTree;
import org.jhyve.trace.TraceConfig;
import org.jhyve.trace.TraceFilter;

/** {@code --trace FILE} and {@code --trace-filter SPEC}, checked before anything is created. */
final class TraceSpec {
    private TraceSpec() {}

    /** From jhyve's keys {@code jhyve.trace.file} and {@code jhyve.trace.filter}. */
    static Optional<TraceConfig> read(ConfigTree tree) throws UsageException {
        String file = tree.value(FILE).orElse(null), filter = tree.value(FILTER).orElse(null);
        return parse(file, file == null ? null : KeyErrors.origin(tree, FILE), filter, filter == null ? null : KeyErrors.origin(tree, FILTER));
    }

    static final String FILE = "jhyve.trace.file", FILTER = "jhyve.trace.filter";

    static Optional<TraceConfig> parse(String file, String fileFlag, String filter, String filterFlag) throws UsageException {
        if (file == null) {
            if (filter != null) throw new UsageException(filterFlag, "needs --trace FILE (where the lines go)");
            return Optional.empty();
        }
        Path path = Path.of(file);
        if (Files.isDirectory(path)) throw new UsageException(fileFlag, "is a directory");
        Path parent = path.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) throw new UsageException(fileFlag, "no such directory " + parent);
        if (Files.exists(path) ? !Files.isWritable(path) : !Files.isWritable(parent)) {
            throw new UsageException(fileFlag, "not writable");
        }
        if (filter == null) return Optional.of(TraceConfig.everything(path));
        try {
            return Optional.of(new TraceConfig(path, TraceFilter.parse(filter)));
        } catch (IllegalArgumentException e) {
            throw new UsageException(filterFlag, e.getMessage());
        }
    }
}
