package org.jhyve.trace;

import java.util.function.LongSupplier;

/**
 * Where a vCPU thread is, for the lines recorded on it: the vCPU's index and the guest RIP at its current
 * exit. The RIP is read from the hypervisor only when a line needs it (a register read is a system call,
 * which would otherwise be paid on every exit), at most once per exit. Touched only by its own thread
 * (see {@link Tracer#attachVcpu}).
 */
public final class VcpuTrace {
    private final int index;
    private final LongSupplier ripReader;
    private long rip;
    private boolean ripKnown;

    VcpuTrace(int index, LongSupplier ripReader) {
        this.index = index;
        this.ripReader = ripReader;
    }

    public int index() { return index; }

    /** A new exit: the RIP is read again when the next line asks for it. */
    public void newExit() {
        ripKnown = false;
    }

    /** Sets the RIP of this exit, when the caller already has it. */
    public void atRip(long value) {
        rip = value;
        ripKnown = true;
    }

    /** Whether {@link #rip()} has a value: false before the first exit, and where no reader was given. */
    boolean hasRip() {
        if (!ripKnown && ripReader != null) atRip(ripReader.getAsLong());
        return ripKnown;
    }

    long rip() { return rip; }
}
