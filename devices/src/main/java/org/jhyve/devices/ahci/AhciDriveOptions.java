package org.jhyve.devices.ahci;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.jhyve.devices.block.BlockOptionValues;
import org.jhyve.devices.options.OptionList;
import org.jhyve.vm.DeviceConfigException;

/**
 * One AHCI drive's {@code -s} options, bhyve's block options where bhyve has them:
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

    public static AhciDriveOptions parse(DriveKind kind, String options) {
        String name = kind.emulation();
        OptionList list = OptionList.split(options);
        if (list.first().isEmpty()) throw new DeviceConfigException(name + " needs an image path: -s SLOT," + name + ",PATH");
        BlockOptionValues.Common common = new BlockOptionValues.Common(name, kind == DriveKind.CD);
        for (OptionList.Option o : list.rest()) {
            if (o.key().equals("sectorsize") && kind == DriveKind.CD) {
                throw new DeviceConfigException(name + ": sectorsize= is for disks (a CD-ROM has 2048-byte blocks)");
            }
            if (!common.take(o)) {
                throw new DeviceConfigException(name + ": unknown option '" + o.text() + "' (known: ro, nocache, sync, direct, nodelete, "
                        + (kind == DriveKind.HD ? "sectorsize=, " : "") + "serial=)");
            }
        }
        return new AhciDriveOptions(kind, list.first(), common.readOnly(), common.direct(), common.sync(),
                common.sizes().logical(), common.sizes().physical(), common.serial(), common.discard());
    }

    /**
     * bhyve's multi-port form, {@code hd:PATH[,opts],cd:PATH[,opts],...}: each {@code hd:} or {@code cd:} starts
     * the next port (0, 1, ...), and the options after it belong to that port.
     */
    public static List<AhciDriveOptions> parsePorts(String options) {
        if (options.isEmpty()) throw new DeviceConfigException("ahci needs at least one port: -s SLOT,ahci,hd:PATH[,...][,cd:PATH[,...]]");
        List<AhciDriveOptions> ports = new ArrayList<>();
        DriveKind kind = null;
        StringBuilder current = new StringBuilder();
        for (String token : options.split(",", -1)) {
            DriveKind starts = token.startsWith(DriveKind.HD.portPrefix()) ? DriveKind.HD
                    : token.startsWith(DriveKind.CD.portPrefix()) ? DriveKind.CD : null;
            if (starts != null) {
                if (kind != null) ports.add(parse(kind, current.toString()));
                kind = starts;
                current.setLength(0);
                current.append(token.substring(3));
            } else if (kind == null) {
                throw new DeviceConfigException("ahci: '" + token + "': each port starts with hd:PATH or cd:PATH");
            } else {
                current.append(',').append(token);
            }
        }
        ports.add(parse(kind, current.toString()));
        if (ports.size() > MAX_PORTS) throw new DeviceConfigException("ahci: at most " + MAX_PORTS + " ports, not " + ports.size());
        return ports;
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
