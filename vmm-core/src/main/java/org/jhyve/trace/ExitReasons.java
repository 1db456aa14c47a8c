package org.jhyve.trace;

import org.jhyve.hv.VmExit;

/** Short, stable names for exits, shared by trace lines and JFR events so both grep the same way. */
public final class ExitReasons {
    private ExitReasons() {}

    /** "pio", "mmio", "halt", ...: constants, so naming an exit allocates nothing. */
    public static String of(VmExit exit) {
        return switch (exit) {
            case VmExit.PortIo io -> "pio";
            case VmExit.Mmio m -> "mmio";
            case VmExit.Halt h -> "halt";
            case VmExit.InterruptWindow w -> "irq-window";
            case VmExit.Msr m -> m.write() ? "wrmsr" : "rdmsr";
            case VmExit.Shutdown s -> "shutdown";
            case VmExit.SystemEvent e -> "system-event";
            case VmExit.InternalError e -> e.isEmulationFailure() ? "emulation-failure" : "internal-error";
            case VmExit.FailEntry f -> "fail-entry";
            case VmExit.Debug d -> "debug";
            case VmExit.Interrupted i -> "interrupted";
            case VmExit.Unknown u -> "unknown";
        };
    }

    /** The port of a port-IO exit, the address of an MMIO exit, else {@link TraceEvent#NO_ADDRESS}. */
    public static long addressOf(VmExit exit) {
        return switch (exit) {
            case VmExit.PortIo io -> io.port();
            case VmExit.Mmio m -> m.address();
            case VmExit.Msr m -> m.index();
            default -> TraceEvent.NO_ADDRESS;
        };
    }

    public static TraceEvent.Exit event(VmExit exit) {
        return new TraceEvent.Exit(of(exit), addressOf(exit));
    }
}
