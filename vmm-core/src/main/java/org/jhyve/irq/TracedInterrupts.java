package org.jhyve.irq;

import org.jhyve.jfr.InterruptEvent;
import org.jhyve.jfr.Jfr;
import org.jhyve.trace.TraceEvent;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;

/**
 * Interrupt delivery as the machine hands it to devices: each level change or MSI goes to the trace (when
 * irq lines are on) and to JFR (when a recording wants {@code jhyve.Interrupt}), then to the platform.
 */
public final class TracedInterrupts {
    private TracedInterrupts() {}

    /** Line {@code gsi}, delivered by {@code platform}. */
    public static IrqLine line(int gsi, IrqLine platform, Tracer tracer) {
        return level -> {
            if (tracer.enabled(TraceKind.IRQ)) tracer.record(new TraceEvent.IrqLevel(gsi, level));
            if (Jfr.started()) InterruptEvent.line(gsi, level);
            platform.set(level);
        };
    }

    /** MSIs, delivered by {@code platform}. */
    public static MsiSink msi(MsiSink platform, Tracer tracer) {
        return (address, data) -> {
            if (tracer.enabled(TraceKind.IRQ)) tracer.record(new TraceEvent.Msi(address, data));
            if (Jfr.started()) InterruptEvent.msi(address, data);
            platform.signal(address, data);
        };
    }
}
