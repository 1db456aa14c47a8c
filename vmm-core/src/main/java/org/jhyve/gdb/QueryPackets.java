package org.jhyve.gdb;

import java.util.StringJoiner;

/**
 * The {@code q} and {@code Q} packets: features, threads, target.xml, no-ack mode. Unknown queries get the
 * empty reply ("not supported"), which is how gdb probes for optional ones (qTStatus, qOffsets, ...).
 */
final class QueryPackets {
    /** Advertised as PacketSize: the longest payload gdb may send, in hex. */
    static final int PACKET_SIZE = 0x4000;

    private final GdbTarget target;
    private boolean acknowledging = true;
    private boolean gdbKnowsBreakpointKinds;
    private int currentThread = 1;

    QueryPackets(GdbTarget target) {
        this.target = target;
    }

    boolean acknowledging() {
        return acknowledging;
    }

    /** True when gdb announced {@code swbreak+} (and so reads the stop reply's breakpoint kinds). */
    boolean gdbKnowsBreakpointKinds() {
        return gdbKnowsBreakpointKinds;
    }

    void currentThread(int thread) {
        currentThread = thread;
    }

    String answer(String packet) throws BadPacketException {
        if (packet.startsWith("qSupported")) return supported(packet);
        if (packet.startsWith("qXfer:features:read:")) return features(packet.substring("qXfer:features:read:".length()));
        if (packet.startsWith("qThreadExtraInfo,")) {
            int thread = ResumeParser.thread(packet.substring("qThreadExtraInfo,".length()), target.threadCount());
            return Hex.text(target.describeThread(thread));
        }
        return switch (packet) {
            case "QStartNoAckMode" -> {
                acknowledging = false;
                yield "OK";
            }
            case "qC" -> "QC" + Hex.number(currentThread);
            case "qAttached" -> "1"; // attached to an existing machine: on quit gdb detaches rather than kills
            case "qfThreadInfo" -> threadList();
            case "qsThreadInfo" -> "l";
            case "qSymbol::" -> "OK";
            default -> "";
        };
    }

    private String supported(String packet) {
        int colon = packet.indexOf(':');
        if (colon >= 0) {
            for (String feature : packet.substring(colon + 1).split(";")) {
                if (feature.equals("swbreak+")) gdbKnowsBreakpointKinds = true;
            }
        }
        StringJoiner reply = new StringJoiner(";");
        reply.add("PacketSize=" + Integer.toHexString(PACKET_SIZE));
        reply.add("qXfer:features:read+");
        reply.add("QStartNoAckMode+");
        if (gdbKnowsBreakpointKinds) reply.add("swbreak+").add("hwbreak+");
        return reply.toString();
    }

    private String threadList() {
        StringJoiner ids = new StringJoiner(",", "m", "");
        for (int t = 1; t <= target.threadCount(); t++) ids.add(Hex.number(t));
        return ids.toString();
    }

    /** {@code ANNEX:OFFSET,LENGTH}: {@code m} and a piece when more follows, {@code l} and the last piece. */
    private String features(String args) throws BadPacketException {
        int colon = args.indexOf(':');
        if (colon < 0) throw new BadPacketException("qXfer without ':'");
        if (!args.substring(0, colon).equals(TargetDescription.ANNEX)) return "E00";
        int comma = args.indexOf(',', colon);
        if (comma < 0) throw new BadPacketException("qXfer without OFFSET,LENGTH");
        long offset = Hex.parseNumber(args.substring(colon + 1, comma));
        long length = Hex.parseNumber(args.substring(comma + 1));
        String xml = TargetDescription.XML;
        if (offset >= xml.length()) return "l";
        int end = (int) Math.min(xml.length(), offset + Math.min(length, PACKET_SIZE - 1));
        return (end < xml.length() ? "m" : "l") + xml.substring((int) offset, end);
    }
}
