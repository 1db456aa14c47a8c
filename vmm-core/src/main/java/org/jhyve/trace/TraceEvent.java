package org.jhyve.trace;

/**
 * One thing worth a trace line. Built only once a {@link Tracer} said it wants the kind, so the records
 * cost nothing when tracing is off. {@link #device()} and {@link #address()} are what filters select on.
 */
public sealed interface TraceEvent {
    /** What {@link #address()} returns for events that have no port or address. */
    long NO_ADDRESS = -1;

    TraceKind kind();

    /** The device the event names, or null. */
    default String device() { return null; }

    /** The port or guest-physical address the event is about, or {@link #NO_ADDRESS}. */
    default long address() { return NO_ADDRESS; }

    /** A vCPU exit: {@code reason} as {@link ExitReasons#of} names it, and the port or address of an IO exit. */
    record Exit(String reason, long address) implements TraceEvent {
        @Override public TraceKind kind() { return TraceKind.EXIT; }
    }

    /** A port-IO ({@code kind} PIO) or MMIO ({@code kind} MMIO) access; {@code device} is "unclaimed" when none answers. */
    record BusAccess(TraceKind kind, long address, int size, boolean write, long value, String device) implements TraceEvent {
        public BusAccess {
            if (kind != TraceKind.PIO && kind != TraceKind.MMIO) throw new IllegalArgumentException("not a bus kind: " + kind);
        }
    }

    /** A configuration cycle to bus:slot:function; {@code device} is "empty" when no function is there. */
    record PciConfig(int bus, int slot, int function, int offset, int size, boolean write, int value, String device) implements TraceEvent {
        @Override public TraceKind kind() { return TraceKind.PCI; }
    }

    /** A descriptor chain a device took off queue {@code queue}: its head, how many descriptors, their total bytes. */
    record VirtqueueChain(int queue, int head, int descriptors, long bytes, String device) implements TraceEvent {
        @Override public TraceKind kind() { return TraceKind.VIRTQ; }
    }

    /** IOAPIC/PIC input {@code gsi} driven high ({@code asserted}) or low. */
    record IrqLevel(int gsi, boolean asserted) implements TraceEvent {
        @Override public TraceKind kind() { return TraceKind.IRQ; }
    }

    /**
     * What jhyve's userspace interrupt platform did ({@code --irqchip userspace}): {@code event} is one of inject,
     * nmi, halt, wake, startup, eoi, timer-armed, timer-fired; {@code vcpu} and {@code vector} are -1 where they do
     * not apply; {@code detail} names the source (apic, pic, a timer's device) or is empty.
     */
    record Irqchip(String event, int vcpu, int vector, String detail) implements TraceEvent {
        @Override public TraceKind kind() { return TraceKind.IRQ; }
    }

    /** A message-signalled interrupt: the write of {@code data} to {@code messageAddress}. */
    record Msi(long messageAddress, int data) implements TraceEvent {
        @Override public TraceKind kind() { return TraceKind.IRQ; }
    }
}
