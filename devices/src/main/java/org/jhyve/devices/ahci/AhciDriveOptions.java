package org.jhyve.devices.ahci;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.jhyve.config.ConfigException;
import org.jhyve.config.ConfigNode;
import org.jhyve.devices.block.BlockOptionValues;
import org.jhyve.devices.options.LegacyOptions;
import org.jhyve.devices.options.OptionList;
import org.jhyve.vm.DeviceConfigException;

/**
 * One AHCI drive's settings, read from its port's node ({@code port.N} of the controller's, as bhyve's), from
 * {@code -s} options with bhyve's block options where bhyve has them:
 * {@code PATH[,ro][,nocache][,sync|direct][,nodelete][,sectorsize=L[/P]][,serial=ID]} ({@code sectorsize} for disks
 * only; a CD-ROM is always read-only with 2048-byte blocks), with bhyve's meanings ({@link BlockOptionValues.Common}).
 */
public record AhciDriveOptions(DriveKind kind, String path, boolean readOnly, boolean direct, boolean sync,
                               int logicalSectorSize, int physicalSectorSize, Optional<String> serial, boolean discard) {
    /** Discard (TRIM) allowed unless read-only. */
    public AhciDriveOptions(DriveKind kind, String path, boolean readOnly, boolean direct, boolean sync,
                            int logicalSectorSize, int physicalSectorSize, Optional<String> serial) {
        this(kind, path, readOnly, direct, sync, logicalSectorSize, physicalSectorSize, serial, !readOnly);
    }

    /** bhyve's limit: one port per bit of PI. */
    public static final int MAX_PORTS = 32;

    /** One drive's options from an {@code -s} string (ahci-hd's or ahci-cd's), as its node's keys would give them. */
    public static AhciDriveOptions parse(DriveKind kind, String options) {
        return LegacyOptions.read(legacyDriveKeys(kind, options), node -> from(kind, node));
    }

    /** bhyve's multi-port form ({@link #legacyPortKeys}), as the controller's node would give its ports. */
    public static List<AhciDriveOptions> parsePorts(String options) {
        return LegacyOptions.read(legacyPortKeys(options), node -> ports("ahci", node));
    }

    /**
     * One drive's {@code PATH[,options]} as keys: {@code path}, then the block options as bhyve's legacy parsing
     * has them (a bare flag is "true").
     *
     * @throws DeviceConfigException for an option the drive does not have
     */
    public static Map<String, String> legacyDriveKeys(DriveKind kind, String options) {
        String name = kind.emulation();
        OptionList list = OptionList.split(options);
        Map<String, String> keys = new LinkedHashMap<>();
        if (!list.first().isEmpty()) keys.put("path", list.first());
        for (OptionList.Option o : list.rest()) {
            if (!BlockOptionValues.translate(o, keys)) {
                throw new DeviceConfigException(name + ": unknown option '" + o.text() + "' (known: ro, nocache, sync, direct, nodelete, "
                        + (kind == DriveKind.HD ? "sectorsize=, " : "") + "serial=)");
            }
        }
        return keys;
    }

    /** {@code -s N,ahci-hd,...} or {@code ahci-cd}: the one drive as port 0, {@code port.0.type} and its keys, as bhyve. */
    public static Map<String, String> legacySingleKeys(DriveKind kind, String options) {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("port.0.type", kind.portPrefix().substring(0, 2));
        legacyDriveKeys(kind, options).forEach((k, v) -> keys.put("port.0." + k, v));
        return keys;
    }

    /**
     * bhyve's multi-port form, {@code hd:PATH[,opts],cd:PATH[,opts],...}: each {@code hd:} or {@code cd:} starts
     * the next port (0, 1, ...), and the options after it belong to that port: keys {@code port.N.type} and
     * {@code port.N.path}, {@code port.N.ro}...
     */
    public static Map<String, String> legacyPortKeys(String options) {
        if (options.isEmpty()) throw new DeviceConfigException(NO_PORTS);
        Map<String, String> keys = new LinkedHashMap<>();
        DriveKind kind = null;
        StringBuilder current = new StringBuilder();
        int port = 0;
        for (String token : options.split(",", -1)) {
            DriveKind starts = token.startsWith(DriveKind.HD.portPrefix()) ? DriveKind.HD
                    : token.startsWith(DriveKind.CD.portPrefix()) ? DriveKind.CD : null;
            if (starts != null) {
                if (kind != null) putPort(keys, port++, kind, current.toString());
                kind = starts;
                current.setLength(0);
                current.append(token.substring(3));
            } else if (kind == null) {
                throw new DeviceConfigException("ahci: '" + token + "': each port starts with hd:PATH or cd:PATH");
            } else {
                current.append(',').append(token);
            }
        }
        putPort(keys, port++, kind, current.toString());
        if (port > MAX_PORTS) throw new DeviceConfigException("ahci: at most " + MAX_PORTS + " ports, not " + port);
        return keys;
    }

    private static void putPort(Map<String, String> keys, int port, DriveKind kind, String options) {
        keys.put("port." + port + ".type", kind.portPrefix().substring(0, 2));
        legacyDriveKeys(kind, options).forEach((k, v) -> keys.put("port." + port + "." + k, v));
    }

    private static final String NO_PORTS = "ahci needs at least one port: -s SLOT,ahci,hd:PATH[,...][,cd:PATH[,...]]";

    /**
     * The drives of an AHCI controller's node: {@code port.0}, {@code port.1}... without gaps, each with
     * {@code type} hd or cd ({@code emulation} ahci-hd or ahci-cd gives the default) and the block settings.
     *
     * @throws org.jhyve.config.ConfigException naming the key of a bad value
     * @throws DeviceConfigException when there is no port or a port has no path
     */
    public static List<AhciDriveOptions> ports(String emulation, ConfigNode controller) {
        ConfigNode portNode = controller.child("port");
        SortedMap<Integer, String> numbers = new TreeMap<>();
        for (String name : portNode.childNames()) {
            int n = name.matches("0|[1-9][0-9]{0,2}") ? Integer.parseInt(name) : -1;
            if (n < 0 || n >= MAX_PORTS) {
                throw new ConfigException(portNode.key(name), emulation + ": " + portNode.key(name) + ": ports are port.0 to port." + (MAX_PORTS - 1));
            }
            numbers.put(n, name);
        }
        if (numbers.isEmpty()) throw new DeviceConfigException(emulation.equals("ahci") ? NO_PORTS
                : emulation + " needs an image path: -s SLOT," + emulation + ",PATH");
        List<AhciDriveOptions> drives = new ArrayList<>();
        for (int n : numbers.keySet()) {
            if (n != drives.size()) {
                throw new ConfigException(portNode.key(String.valueOf(n)), emulation + ": port." + n + " without port." + drives.size()
                        + ": ports are numbered from 0 without gaps");
            }
            ConfigNode port = portNode.child(String.valueOf(n));
            DriveKind kind = kind(emulation, port);
            drives.add(from(kind, port));
        }
        return drives;
    }

    private static DriveKind kind(String emulation, ConfigNode port) {
        String fallback = emulation.equals(DriveKind.CD.emulation()) ? "cd" : emulation.equals(DriveKind.HD.emulation()) ? "hd" : null;
        String type = port.get("type").orElse(fallback);
        if (type == null) throw port.malformed("type", emulation + ": " + port.key("type") + " is missing: hd (a disk) or cd (a CD-ROM)");
        return switch (type) {
            case "hd" -> DriveKind.HD;
            case "cd" -> DriveKind.CD;
            default -> throw port.malformed("type", emulation + ": " + port.key("type") + "=" + type + ": hd (a disk) or cd (a CD-ROM)");
        };
    }

    /** One drive's settings from its node ({@code path}, the block settings; no {@code sectorsize} on a CD-ROM). */
    public static AhciDriveOptions from(DriveKind kind, ConfigNode node) {
        String name = kind.emulation();
        String path = node.get("path").filter(p -> !p.isEmpty())
                .orElseThrow(() -> new DeviceConfigException(name + " needs an image path: -s SLOT," + name + ",PATH"));
        if (kind == DriveKind.CD && node.has("sectorsize")) {
            throw node.malformed("sectorsize", name + ": sectorsize= is for disks (a CD-ROM has 2048-byte blocks)");
        }
        BlockOptionValues.Common common = BlockOptionValues.Common.read(name, kind == DriveKind.CD, node);
        return new AhciDriveOptions(kind, path, common.readOnly(), common.direct(), common.sync(),
                common.sizes().logical(), common.sizes().physical(), common.serial(), common.discard());
    }

    /**
     * The serial number IDENTIFY reports: {@code serial=} if given, otherwise one derived from the image's
     * absolute path, so the guest sees the same disk on every run (udev's by-id names stay put).
     */
    public String serialNumber() {
        return serial.orElseGet(() -> {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256")
                        .digest(Path.of(path).toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
                String hex = HexFormat.of().withUpperCase().formatHex(digest, 0, 6);
                return "JHYVE-" + hex.substring(0, 4) + "-" + hex.substring(4, 8) + "-" + hex.substring(8, 12);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        });
    }
}
