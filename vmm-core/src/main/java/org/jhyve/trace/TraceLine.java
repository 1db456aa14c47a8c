package org.jhyve.trace;

/**
 * The text of one trace line: fixed columns first (seconds since the VM was created, with nanoseconds; the
 * vCPU or "host" for device threads; the guest RIP), then the kind and what happened, and the device last,
 * since device names may contain spaces:
 *
 * <pre>
 *     0.004007233 vcpu0 rip=0000000000100074 pio  w 0x3f8/1 = 0x48 com1
 *     0.004011912 host  rip=-                virtq q0 head=0 descs=3 bytes=529 virtio-blk@0:4:0
 * </pre>
 */
public final class TraceLine {
    private TraceLine() {}

    /** The line for {@code event} at {@code nanos} since the VM was created; {@code where} is null off a vCPU thread. */
    public static String format(long nanos, VcpuTrace where, TraceEvent event) {
        StringBuilder s = new StringBuilder(96);
        String seconds = Long.toString(nanos / 1_000_000_000L);
        s.repeat(' ', Math.max(0, 5 - seconds.length())).append(seconds).append('.');
        String fraction = Long.toString(nanos % 1_000_000_000L);
        s.repeat('0', 9 - fraction.length()).append(fraction).append(' ');
        String who = where == null ? "host" : "vcpu" + where.index();
        s.append(who).repeat(' ', Math.max(1, 6 - who.length()));
        s.append("rip=");
        if (where != null && where.hasRip()) hex16(s, where.rip());
        else s.append('-').repeat(' ', 15);
        s.append(' ');
        String kind = event.kind().label();
        s.append(kind).repeat(' ', Math.max(1, 6 - kind.length()));
        describe(s, event);
        return s.toString();
    }

    private static void describe(StringBuilder s, TraceEvent event) {
        switch (event) {
            case TraceEvent.Exit e -> {
                s.append(e.reason());
                if (e.address() != TraceEvent.NO_ADDRESS) hex(s.append(' '), e.address());
            }
            case TraceEvent.BusAccess a -> {
                s.append(a.write() ? "w " : "r ");
                hex(s, a.address()).append('/').append(a.size()).append(" = ");
                hex(s, a.value()).append(' ').append(a.device());
            }
            case TraceEvent.PciConfig c -> {
                s.append(c.write() ? "w " : "r ");
                s.append(c.bus()).append(':').append(c.slot()).append(':').append(c.function()).append(' ');
                hex(s, c.offset()).append('/').append(c.size()).append(" = ");
                hex(s, Integer.toUnsignedLong(c.value())).append(' ').append(c.device());
            }
            case TraceEvent.VirtqueueChain q -> s.append('q').append(q.queue()).append(" head=").append(q.head())
                    .append(" descs=").append(q.descriptors()).append(" bytes=").append(q.bytes()).append(' ').append(q.device());
            case TraceEvent.IrqLevel i -> s.append("gsi=").append(i.gsi()).append(" level=").append(i.asserted() ? 1 : 0);
            case TraceEvent.Irqchip c -> {
                s.append("irqchip ").append(c.event());
                if (c.vcpu() >= 0) s.append(" vcpu=").append(c.vcpu());
                if (c.vector() >= 0) s.append(" vector=0x").append(Integer.toHexString(c.vector()));
                if (!c.detail().isEmpty()) s.append(' ').append(c.detail());
            }
            case TraceEvent.Msi m -> hex(s.append("msi addr="), m.messageAddress()).append(" data=").append("0x")
                    .append(Integer.toHexString(m.data()));
        }
    }

    private static StringBuilder hex(StringBuilder s, long value) {
        return s.append("0x").append(Long.toHexString(value));
    }

    private static void hex16(StringBuilder s, long value) {
        String digits = Long.toHexString(value);
        s.repeat('0', 16 - digits.length()).append(digits);
    }
}
