package org.jhyve.trace;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.function.LongSupplier;

/**
 * The VM's trace: one text line per event the filter keeps (see {@link TraceLine} for the format).
 *
 * <p>Callers on hot paths test {@link #enabled(TraceKind)} before they build an event: a final mask and a
 * bit test, so tracing that is off costs one predictable branch and allocates nothing. Events on a vCPU
 * thread name the vCPU and the guest RIP of its current exit ({@link #attachVcpu}); on other threads (device workers)
 * they say "host".
 */
public final class Tracer implements AutoCloseable {
    private static final Tracer OFF = new Tracer(0, TraceFilter.everything(), null, () -> 0);

    private final int mask;
    private final TraceFilter filter;
    private final TraceOutput output;
    private final LongSupplier clock;
    private final long origin;
    private final ThreadLocal<VcpuTrace> vcpuOfThread = new ThreadLocal<>();

    private Tracer(int mask, TraceFilter filter, TraceOutput output, LongSupplier clock) {
        this.mask = mask;
        this.filter = filter;
        this.output = output;
        this.clock = clock;
        this.origin = clock.getAsLong();
    }

    /** The tracer of a VM that traces nothing; closing it does nothing. */
    public static Tracer off() {
        return OFF;
    }

    /**
     * Opens {@code config}'s file (replacing it); time 0 is now.
     *
     * @throws UncheckedIOException when the file cannot be created
     */
    public static Tracer open(TraceConfig config) {
        try {
            // TraceOutput buffers; a second buffer here would only copy every line twice.
            Writer w = new OutputStreamWriter(Files.newOutputStream(config.file()), StandardCharsets.UTF_8);
            return new Tracer(maskOf(config.filter()), config.filter(), new TraceOutput(config.file().toString(), w), System::nanoTime);
        } catch (IOException e) {
            throw new UncheckedIOException("trace file " + config.file() + ": " + e.getMessage(), e);
        }
    }

    /** A tracer writing to {@code out}, with time from {@code clock} (nanoseconds): for tests and embedders. */
    public static Tracer writingTo(Writer out, TraceFilter filter, LongSupplier clock) {
        return new Tracer(maskOf(filter), filter, new TraceOutput("output " + out.getClass().getSimpleName(), out), clock);
    }

    private static int maskOf(TraceFilter filter) {
        int m = 0;
        for (TraceKind k : filter.kinds()) m |= k.bit();
        return m;
    }

    /** Whether lines of {@code kind} may be recorded: test this before building an event. */
    public boolean enabled(TraceKind kind) {
        return (mask & kind.bit()) != 0;
    }

    /** Whether anything is traced at all. */
    public boolean enabled() {
        return mask != 0;
    }

    public TraceFilter filter() { return filter; }

    /**
     * Marks the calling thread as vCPU {@code index}'s: its lines name the vCPU and the guest RIP, which
     * {@code ripReader} reads (on this thread) the first time a line of the current exit needs it; call
     * {@link VcpuTrace#newExit()} at each exit. The mark ends with the thread.
     */
    public VcpuTrace attachVcpu(int index, LongSupplier ripReader) {
        VcpuTrace t = new VcpuTrace(index, ripReader);
        if (enabled()) vcpuOfThread.set(t);
        return t;
    }

    /** Writes {@code event}'s line if the filter keeps it. */
    public void record(TraceEvent event) {
        if (!enabled(event.kind()) || !filter.keeps(event)) return;
        output.writeLine(TraceLine.format(clock.getAsLong() - origin, vcpuOfThread.get(), event));
    }

    /** Pushes buffered lines to the file (they are also written when the buffer fills and on close). */
    public void flush() {
        if (output != null) output.flush();
    }

    @Override
    public void close() {
        if (output != null) output.close();
    }
}
