package org.jhyve.devices.virtio;

import java.util.Optional;
import org.jhyve.vm.DeviceConfigException;

/**
 * The {@code -s slot,virtio-blk,PATH[,ro][,nocache][,sync][,sectorsize=L[/P]][,serial=ID][,num-queues=N]}
 * options, as bhyve spells them where bhyve has them.
 */
public record VirtioBlockOptions(String path, boolean readOnly, boolean direct, boolean sync,
                                 int logicalSectorSize, int physicalSectorSize, Optional<String> serial, int queues) {
    public static final int MAX_QUEUES = 16;
    /** GET_ID returns at most 20 bytes. */
    public static final int SERIAL_BYTES = 20;

    public static VirtioBlockOptions parse(String options) {
        String[] parts = options.split(",", -1);
        if (parts.length == 0 || parts[0].isEmpty()) throw new DeviceConfigException("virtio-blk needs a disk image path: -s SLOT,virtio-blk,PATH");
        boolean ro = false, direct = false, sync = false;
        int logical = 512, physical = 512, queues = 1;
        Optional<String> serial = Optional.empty();
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            int eq = p.indexOf('=');
            String key = eq < 0 ? p : p.substring(0, eq), value = eq < 0 ? null : p.substring(eq + 1);
            switch (key) {
                case "ro" -> ro = true;
                case "nocache", "direct" -> direct = true;
                case "sync" -> sync = true;
                case "sectorsize" -> {
                    String[] lp = need(key, value).split("/", -1);
                    logical = sectorSize(lp[0]);
                    physical = lp.length > 1 ? sectorSize(lp[1]) : logical;
                    if (lp.length > 2 || physical < logical) throw new DeviceConfigException("virtio-blk: sectorsize=" + value + ": use LOGICAL or LOGICAL/PHYSICAL, physical >= logical");
                }
                case "serial", "ser" -> {
                    String s = need(key, value);
                    if (s.length() > SERIAL_BYTES || !s.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                        throw new DeviceConfigException("virtio-blk: serial=" + s + ": at most 20 printable ASCII characters");
                    }
                    serial = Optional.of(s);
                }
                case "num-queues" -> {
                    try {
                        queues = Integer.parseInt(need(key, value));
                    } catch (NumberFormatException e) {
                        queues = -1;
                    }
                    if (queues < 1 || queues > MAX_QUEUES) throw new DeviceConfigException("virtio-blk: num-queues=" + value + ": use 1-" + MAX_QUEUES);
                }
                default -> throw new DeviceConfigException("virtio-blk: unknown option '" + p + "' (known: ro, nocache, sync, sectorsize=, serial=, num-queues=)");
            }
        }
        return new VirtioBlockOptions(parts[0], ro, direct, sync, logical, physical, serial, queues);
    }

    private static String need(String key, String value) {
        if (value == null || value.isEmpty()) throw new DeviceConfigException("virtio-blk: " + key + "= needs a value");
        return value;
    }

    private static int sectorSize(String s) {
        int v;
        try {
            v = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            v = -1;
        }
        if (v < 512 || v > 65536 || Integer.bitCount(v) != 1) throw new DeviceConfigException("virtio-blk: sector size " + s + " is not a power of two from 512 to 65536");
        return v;
    }
}
