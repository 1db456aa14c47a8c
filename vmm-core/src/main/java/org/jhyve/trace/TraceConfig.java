package org.jhyve.trace;

import java.nio.file.Path;
import java.util.Objects;

/** Tracing as asked for: lines selected by {@code filter}, written to {@code file} (replaced if it exists). */
public record TraceConfig(Path file, TraceFilter filter) {
    public TraceConfig {
        Objects.requireNonNull(file, "trace file");
        Objects.requireNonNull(filter, "trace filter");
    }

    /** Everything, to {@code file}. */
    public static TraceConfig everything(Path file) {
        return new TraceConfig(file, TraceFilter.everything());
    }
}
