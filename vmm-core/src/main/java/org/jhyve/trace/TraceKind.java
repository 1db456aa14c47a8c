package org.jhyve.trace;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** What a trace line is about; each kind can be switched on separately ({@code --trace-filter}). */
public enum TraceKind {
    /** A vCPU left the guest: why, and the port or address for device accesses. */
    EXIT("exit"),
    /** A port-IO access as a device saw it. */
    PIO("pio"),
    /** An MMIO access as a device saw it. */
    MMIO("mmio"),
    /** A PCI configuration cycle (mechanism #1 or a device's own window). */
    PCI("pci"),
    /** A virtqueue descriptor chain taken by a device. */
    VIRTQ("virtq"),
    /** An interrupt line driven or an MSI sent. */
    IRQ("irq");

    private final String label;
    private final int bit;

    TraceKind(String label) {
        this.label = label;
        this.bit = 1 << ordinal();
    }

    /** The name used in filters and in trace lines. */
    public String label() { return label; }

    /** This kind's bit in a {@link Tracer}'s mask. */
    int bit() { return bit; }

    public static Optional<TraceKind> byLabel(String label) {
        return Arrays.stream(values()).filter(k -> k.label.equals(label)).findFirst();
    }

    /** "exit, pio, mmio, ...": for error messages and help. */
    public static String labels() {
        return Arrays.stream(values()).map(TraceKind::label).collect(Collectors.joining(", "));
    }
}
