package org.jhyve.trace;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Which events make trace lines. A line is kept when its kind is selected, and, when devices are given, it
 * names a device whose name contains one of them, and, when ranges are given, its port or address lies in
 * one of them. Lines that name no device (exits, interrupts) or have no address (PCI, virtqueues,
 * interrupts) are therefore dropped by a device or range filter.
 *
 * <p>The text form ({@code --trace-filter}) is clauses separated by {@code ;}, each a comma-separated list:
 * {@code kind=pio,mmio;device=com1,virtio-blk;range=0x3f8-0x3ff}. A clause without {@code key=} lists kinds,
 * so {@code pio,mmio;range=0x3f8-0x3ff} means the same as with {@code kind=}. Repeated keys add up.
 */
public record TraceFilter(Set<TraceKind> kinds, List<String> devices, List<AddressRange> ranges) {
    public TraceFilter {
        if (kinds.isEmpty()) throw new IllegalArgumentException("a filter selects at least one kind");
        kinds = Set.copyOf(kinds);
        devices = List.copyOf(devices);
        ranges = List.copyOf(ranges);
    }

    /** Every kind, every device, every address. */
    public static TraceFilter everything() {
        return new TraceFilter(EnumSet.allOf(TraceKind.class), List.of(), List.of());
    }

    public boolean selects(TraceKind kind) {
        return kinds.contains(kind);
    }

    /** Whether {@code event} makes a line: see the class comment. */
    public boolean keeps(TraceEvent event) {
        if (!kinds.contains(event.kind())) return false;
        if (!devices.isEmpty()) {
            String name = event.device();
            if (name == null || devices.stream().noneMatch(name::contains)) return false;
        }
        if (!ranges.isEmpty()) {
            long address = event.address();
            if (address == TraceEvent.NO_ADDRESS || ranges.stream().noneMatch(r -> r.contains(address))) return false;
        }
        return true;
    }

    /**
     * Parses the text form.
     *
     * @throws IllegalArgumentException with a one-line message naming what is wrong
     */
    public static TraceFilter parse(String spec) {
        if (spec.isBlank()) throw new IllegalArgumentException("empty filter (e.g. pio,mmio;range=0x3f8-0x3ff)");
        EnumSet<TraceKind> kinds = EnumSet.noneOf(TraceKind.class);
        List<String> devices = new ArrayList<>();
        List<AddressRange> ranges = new ArrayList<>();
        for (String clause : spec.split(";", -1)) {
            int eq = clause.indexOf('=');
            String key = eq < 0 ? "kind" : clause.substring(0, eq).strip();
            String values = eq < 0 ? clause : clause.substring(eq + 1);
            for (String value : values.split(",", -1)) {
                String v = value.strip();
                if (v.isEmpty()) throw new IllegalArgumentException(emptyValue(key, clause));
                switch (key) {
                    case "kind" -> kinds.add(TraceKind.byLabel(v).orElseThrow(() ->
                            new IllegalArgumentException("unknown kind '" + v + "' (" + TraceKind.labels() + ")")));
                    case "device" -> devices.add(v);
                    case "range" -> ranges.add(AddressRange.parse(v));
                    default -> throw new IllegalArgumentException("unknown key '" + key + "' (kind=, device=, range=)");
                }
            }
        }
        if (kinds.isEmpty()) kinds = EnumSet.allOf(TraceKind.class);
        return new TraceFilter(kinds, devices, ranges);
    }

    private static String emptyValue(String key, String clause) {
        return clause.isBlank() ? "empty clause (clauses are separated by ';')" : "'" + clause.strip() + "' has an empty " + key;
    }

    /** The text form, as {@link #parse} reads it. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("kind=");
        s.append(String.join(",", kinds.stream().sorted().map(TraceKind::label).toList()));
        if (!devices.isEmpty()) s.append(";device=").append(String.join(",", devices));
        if (!ranges.isEmpty()) s.append(";range=").append(String.join(",", ranges.stream().map(AddressRange::toString).toList()));
        return s.toString();
    }
}
