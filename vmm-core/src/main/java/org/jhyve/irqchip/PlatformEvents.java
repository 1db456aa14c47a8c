package org.jhyve.irqchip;

import org.jhyve.jfr.InterruptControllerEvent;
import org.jhyve.jfr.Jfr;
import org.jhyve.trace.TraceEvent;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;

/**
 * The userspace platform's trace lines ({@code irq} kind: "irqchip inject vcpu=0 vector=0xec apic") and JFR events
 * ({@code jhyve.InterruptController}). Each costs two branches when neither is on.
 *
 * <p>Threading rules: any thread; the tracer and JFR are thread-safe.
 */
public final class PlatformEvents {
    private final Tracer tracer;

    public PlatformEvents(Tracer tracer) {
        this.tracer = tracer;
    }

    void injected(int vcpu, int vector, boolean fromPic) {
        emit("inject", vcpu, vector, fromPic ? "pic" : "apic");
    }

    void nmi(int vcpu) { emit("nmi", vcpu, 2, ""); }

    void halted(int vcpu) { emit("halt", vcpu, -1, ""); }

    void woke(int vcpu) { emit("wake", vcpu, -1, ""); }

    void started(int vcpu, int vector) { emit("startup", vcpu, vector, ""); }

    void endOfInterrupt(int vector) { emit("eoi", -1, vector, "level"); }

    void timerArmed(String timer, long inNanos) { emit("timer-armed", -1, -1, timer + " in=" + inNanos + "ns"); }

    void timerFired(String timer) { emit("timer-fired", -1, -1, timer); }

    boolean enabled() {
        return tracer.enabled(TraceKind.IRQ) || Jfr.started();
    }

    private void emit(String event, int vcpu, int vector, String detail) {
        if (tracer.enabled(TraceKind.IRQ)) tracer.record(new TraceEvent.Irqchip(event, vcpu, vector, detail));
        if (Jfr.started()) InterruptControllerEvent.record(event, vcpu, vector, detail);
    }
}
