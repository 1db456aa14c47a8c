package org.jhyve.devices.virtio;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import org.jhyve.devices.options.OptionList;
import org.jhyve.vm.DeviceConfigException;

/**
 * {@code -s SLOT,virtio-net,BACKEND[,mac=xx:xx:xx:xx:xx:xx][,queues=N]} where BACKEND is a tap interface name
 * (tapN, or {@code tap=NAME}) or {@code socket=udp:HOST:PORT,peer=HOST:PORT} / {@code socket=unix:PATH,peer=PATH};
 * {@code queues=N} asks for N queue pairs (a multi-queue tap: one queue of the interface per pair).
 */
public record VirtioNetOptions(Backend backend, Optional<byte[]> mac, int queuePairs) {
    /** Where frames go. */
    public sealed interface Backend {
        String describe();
    }

    public record Tap(String name) implements Backend {
        public String describe() { return name; }
    }

    /** A datagram socket: {@code udp:HOST:PORT} or {@code unix:PATH}, frames sent to {@code peer}. */
    public record Socket(String local, String peer) implements Backend {
        public String describe() { return "socket=" + local + ",peer=" + peer; }
    }

    public static VirtioNetOptions parse(String options) {
        Backend backend = null;
        Optional<byte[]> mac = Optional.empty();
        String socket = null, peer = null;
        int queuePairs = 1;
        for (OptionList.Option o : OptionList.all(options)) {
            String p = o.text(), value = o.valueOr("");
            switch (o.key()) {
                case "mac" -> mac = Optional.of(parseMac(value));
                case "tap" -> backend = new Tap(value);
                case "socket" -> socket = value;
                case "peer" -> peer = value;
                case "queues" -> queuePairs = parseQueues(value);
                case "" -> throw new DeviceConfigException("virtio-net needs a backend: -s SLOT,virtio-net,tap0 (or socket=...,peer=...)");
                default -> {
                    if (o.value() == null && backend == null && (p.startsWith("tap") || p.startsWith("vmnet") || p.startsWith("vmn"))) backend = new Tap(p);
                    else throw new DeviceConfigException("virtio-net: unknown option '" + p + "' (known: TAPNAME, tap=, socket=, peer=, mac=, queues=)");
                }
            }
        }
        if (socket != null) {
            if (backend != null) throw new DeviceConfigException("virtio-net: give a tap or a socket, not both");
            if (peer == null) throw new DeviceConfigException("virtio-net: socket=" + socket + " needs peer= (where frames go)");
            if (!socket.startsWith("udp:") && !socket.startsWith("unix:")) {
                throw new DeviceConfigException("virtio-net: socket=" + socket + ": use udp:HOST:PORT or unix:PATH");
            }
            backend = new Socket(socket, peer);
        } else if (peer != null) {
            throw new DeviceConfigException("virtio-net: peer= belongs to a socket= backend");
        }
        if (backend == null) throw new DeviceConfigException("virtio-net needs a backend: -s SLOT,virtio-net,tap0 (or socket=...,peer=...)");
        if (backend instanceof Tap t && (t.name().isEmpty() || t.name().length() > 15)) {
            throw new DeviceConfigException("virtio-net: '" + t.name() + "' is not a network interface name (1-15 characters)");
        }
        if (queuePairs > 1 && !(backend instanceof Tap)) {
            throw new DeviceConfigException("virtio-net: queues=" + queuePairs + " needs a tap backend (a socket is one queue)");
        }
        return new VirtioNetOptions(backend, mac, queuePairs);
    }

    static int parseQueues(String text) {
        int n;
        try {
            n = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > VirtioNet.MAX_PAIRS) {
            throw new DeviceConfigException("virtio-net: queues=" + text + " must be a number of queue pairs from 1 to " + VirtioNet.MAX_PAIRS);
        }
        return n;
    }

    static byte[] parseMac(String text) {
        String[] octets = text.split(":", -1);
        byte[] mac = new byte[6];
        boolean ok = octets.length == 6;
        for (int i = 0; ok && i < 6; i++) {
            ok = octets[i].matches("[0-9a-fA-F]{2}");
            if (ok) mac[i] = (byte) Integer.parseInt(octets[i], 16);
        }
        if (!ok) throw new DeviceConfigException("virtio-net: mac=" + text + " is not a MAC address (xx:xx:xx:xx:xx:xx)");
        if ((mac[0] & 1) != 0) throw new DeviceConfigException("virtio-net: mac=" + text + " is a multicast address");
        return mac;
    }

    /**
     * The MAC to use: the given one, else one derived from {@code seed} (slot and backend), stable across runs as
     * bhyve's is, locally administered and unicast.
     */
    public byte[] macOr(String seed) {
        return mac.orElseGet(() -> {
            try {
                byte[] h = MessageDigest.getInstance("SHA-256").digest(("jhyve-virtio-net:" + seed).getBytes(StandardCharsets.UTF_8));
                byte[] m = java.util.Arrays.copyOf(h, 6);
                m[0] = (byte) ((m[0] & 0xfc) | 0x02);
                return m;
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    public static String format(byte[] mac) {
        return HexFormat.ofDelimiter(":").formatHex(mac);
    }
}
