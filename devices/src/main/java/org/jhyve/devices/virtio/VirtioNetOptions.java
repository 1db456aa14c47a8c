package org.jhyve.devices.virtio;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jhyve.config.ConfigNode;
import org.jhyve.devices.options.LegacyOptions;
import org.jhyve.devices.options.NodeValues;
import org.jhyve.devices.options.OptionList;
import org.jhyve.pci.PciAddress;
import org.jhyve.vm.DeviceConfigException;

/**
 * A virtio-net's settings, read from its node ({@link #from}); from the string
 * {@code -s SLOT,virtio-net[,BACKEND][,mac=xx:xx:xx:xx:xx:xx][,queues=N]} where BACKEND is a tap interface name
 * (tapN, or {@code tap=NAME}), {@code socket=udp:HOST:PORT,peer=HOST:PORT} / {@code socket=unix:PATH,peer=PATH},
 * or nothing (or bhyve's {@code slirp}): user-mode networking through passt, with any number of
 * {@code hostfwd=tcp:HOSTADDR:HOSTPORT-:GUESTPORT} (or {@code udp:}; several also as one value joined by ';');
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

    /**
     * User-mode networking (NAT, DHCP, DNS) by passt, the default; host ports forwarded to the guest. A forward
     * without a host address binds 127.0.0.1 (bhyve's slirp would bind every address): only this host reaches it
     * unless the option names another address.
     */
    public record UserNet(List<HostForward> forwards) implements Backend {
        public UserNet {
            forwards = List.copyOf(forwards);
        }

        public String describe() { return "slirp"; }
    }

    /** {@code hostfwd=PROTO:HOSTADDR:HOSTPORT-:GUESTPORT}: connections to the host's port reach the guest's. */
    public record HostForward(boolean udp, String hostAddress, int hostPort, int guestPort) {}

    /** A datagram socket: {@code udp:HOST:PORT} or {@code unix:PATH}, frames sent to {@code peer}. */
    public record Socket(String local, String peer) implements Backend {
        public String describe() { return "socket=" + local + ",peer=" + peer; }
    }

    /** The options of an {@code -s} string, as the node {@link #legacyKeys} makes of it would give them. */
    public static VirtioNetOptions parse(String options) {
        return LegacyOptions.read(legacyKeys(options), VirtioNetOptions::from);
    }

    /**
     * The {@code -s} string as keys of the device's node, as bhyve's: a tap name ({@code tap0}, {@code tap=NAME}) or
     * {@code slirp} is {@code backend}; {@code hostfwd=} options join into one {@code hostfwd}, ';' between them
     * (bhyve's slirp separator); {@code mac}, {@code queues}, {@code socket}, {@code peer} are themselves.
     *
     * @throws DeviceConfigException for an option virtio-net does not have, or both slirp and a tap
     */
    public static Map<String, String> legacyKeys(String options) {
        Map<String, String> keys = new LinkedHashMap<>();
        String tap = null;
        boolean slirp = false;
        List<String> forwards = new ArrayList<>();
        for (OptionList.Option o : OptionList.all(options)) {
            String p = o.text();
            switch (o.key()) {
                case "mac", "socket", "peer", "queues" -> keys.put(o.key(), o.valueOr(""));
                case "tap" -> tap = o.valueOr("");
                case "hostfwd" -> forwards.add(o.valueOr(""));
                case "" -> { } // "-s 2,virtio-net," : nothing after the comma
                case "slirp" -> {
                    if (o.value() != null) throw new DeviceConfigException("virtio-net: slirp takes no value (hostfwd= is its own option)");
                    slirp = true;
                }
                default -> {
                    if (o.value() == null && tap == null && (p.startsWith("tap") || p.startsWith("vmnet") || p.startsWith("vmn"))) tap = p;
                    else throw new DeviceConfigException("virtio-net: unknown option '" + p
                            + "' (known: TAPNAME, tap=, socket=, peer=, slirp, hostfwd=, mac=, queues=)");
                }
            }
        }
        if (slirp && tap != null) throw new DeviceConfigException("virtio-net: give one backend: slirp or " + tap);
        if (slirp) keys.put("backend", "slirp");
        if (tap != null) keys.put("backend", tap);
        if (!forwards.isEmpty()) keys.put("hostfwd", String.join(";", forwards));
        return keys;
    }

    /**
     * The settings of a virtio-net's node: {@code backend} (slirp, the default, or a tap interface's name),
     * {@code hostfwd} (slirp's forwards, ';' between them), {@code socket} and {@code peer} (jhyve's datagram
     * backend), {@code mac}, {@code queues}.
     *
     * @throws org.jhyve.config.ConfigException naming the key of a bad value or of a clash
     */
    public static VirtioNetOptions from(ConfigNode node) {
        Optional<String> backendName = node.get("backend");
        String socket = node.get("socket").orElse(null), peer = node.get("peer").orElse(null);
        List<HostForward> forwards = NodeValues.parse(node, "hostfwd", v -> Arrays.stream(v.split(";", -1)).map(VirtioNetOptions::parseForward).toList())
                .orElse(List.of());
        Optional<byte[]> mac = NodeValues.parse(node, "mac", VirtioNetOptions::parseMac);
        int queuePairs = NodeValues.parse(node, "queues", VirtioNetOptions::parseQueues).orElse(1);
        boolean slirp = backendName.filter("slirp"::equals).isPresent();
        Backend backend = slirp ? null : backendName.map(Tap::new).orElse(null);
        if (socket != null) {
            if (backend != null) throw node.malformed("socket", "virtio-net: give a tap or a socket, not both");
            if (peer == null) throw node.malformed("socket", "virtio-net: socket=" + socket + " needs peer= (where frames go)");
            if (!socket.startsWith("udp:") && !socket.startsWith("unix:")) {
                throw node.malformed("socket", "virtio-net: socket=" + socket + ": use udp:HOST:PORT or unix:PATH");
            }
            backend = new Socket(socket, peer);
        } else if (peer != null) {
            throw node.malformed("peer", "virtio-net: peer= belongs to a socket= backend");
        }
        if (slirp && backend != null) throw node.malformed("backend", "virtio-net: give one backend: slirp or " + backend.describe());
        if (!forwards.isEmpty() && backend != null) {
            throw node.malformed("hostfwd", "virtio-net: hostfwd= belongs to user-mode networking (slirp, the default), not to " + backend.describe());
        }
        if (backend == null) backend = new UserNet(forwards);
        if (backend instanceof Tap t && (t.name().isEmpty() || t.name().length() > 15)) {
            throw node.malformed("backend", "virtio-net: '" + t.name() + "' is not a network interface name (1-15 characters)");
        }
        if (queuePairs > 1 && !(backend instanceof Tap)) {
            throw node.malformed("queues", "virtio-net: queues=" + queuePairs + " needs a tap backend (a socket or slirp is one queue)");
        }
        return new VirtioNetOptions(backend, mac, queuePairs);
    }

    /** {@code tcp:HOSTADDR:HOSTPORT-:GUESTPORT} or {@code udp:...}; HOSTADDR may be empty (127.0.0.1), the guest address must be. */
    static HostForward parseForward(String text) {
        String usage = "virtio-net: hostfwd=" + text + ": expected tcp:HOSTADDR:HOSTPORT-:GUESTPORT (or udp:...; HOSTADDR may be empty)";
        int colon = text.indexOf(':'), dash = text.lastIndexOf('-');
        if (colon < 0 || dash < colon) throw new DeviceConfigException(usage);
        String proto = text.substring(0, colon), host = text.substring(colon + 1, dash), guest = text.substring(dash + 1);
        boolean udp = switch (proto) {
            case "tcp" -> false;
            case "udp" -> true;
            default -> throw new DeviceConfigException("virtio-net: hostfwd=" + text + ": the protocol is tcp or udp, not '" + proto + "'");
        };
        int hostColon = host.lastIndexOf(':'), guestColon = guest.lastIndexOf(':');
        if (hostColon < 0 || guestColon < 0) throw new DeviceConfigException(usage);
        String hostAddress = host.substring(0, hostColon);
        if (!guest.substring(0, guestColon).isEmpty()) {
            throw new DeviceConfigException("virtio-net: hostfwd=" + text + ": leave the guest address out (passt forwards to the guest's one address)");
        }
        int hostPort = parsePort(host.substring(hostColon + 1), text), guestPort = parsePort(guest.substring(guestColon + 1), text);
        if (hostAddress.startsWith("[") && hostAddress.endsWith("]")) hostAddress = hostAddress.substring(1, hostAddress.length() - 1);
        return new HostForward(udp, hostAddress.isEmpty() ? "127.0.0.1" : hostAddress, hostPort, guestPort);
    }

    private static int parsePort(String text, String option) {
        int port;
        try {
            port = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) throw new DeviceConfigException("virtio-net: hostfwd=" + option + ": '" + text + "' is not a port (1-65535)");
        return port;
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
     * The MAC the device at {@code address} of a VM with {@code vmUuid} has: {@code mac=} if given, else one derived
     * from the UUID and the slot with {@code -U}, or the slot and the backend without. The one place the seed is
     * made, for the device and for {@code -M} alike.
     */
    public byte[] macFor(Optional<UUID> vmUuid, PciAddress address) {
        return macOr(vmUuid.map(u -> u + "/" + address).orElse(address + "/" + backend.describe()));
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
