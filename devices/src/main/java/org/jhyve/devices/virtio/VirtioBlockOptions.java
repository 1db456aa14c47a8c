package org.jhyve.devices.virtio;

import java.util.Optional;
import org.jhyve.devices.block.BlockOptionValues;
import org.jhyve.vm.DeviceConfigException;

/**
 * The {@code -s slot,virtio-blk,PATH[,ro][,nocache][,sync][,sectorsize=L[/P]][,serial=ID][,num-queues=N]}
 * options, as bhyve spells them where bhyve has them.
 */
public record VirtioBlockOptions(String path, boolean readOnly, boolean direct, boolean sync,
                                 int logicalSectorSize, int physicalSectorSize, Optional<String> serial, int queues) {
    public static final int MAX_QUEUES = 16;
    /** GET_ID returns at most 20 bytes. */
    public static final int SERIAL_BYTES = BlockOptionValues.SERIAL_CHARACTERS;
    static final String NAME = "virtio-blk";

    public static VirtioBlockOptions parse(String options) {
        String[] parts = options.split(",", -1);
        if (parts.length == 0 || parts[0].isEmpty()) throw new DeviceConfigException("virtio-blk needs a disk image path: -s SLOT,virtio-blk,PATH");
        boolean ro = false, direct = false, sync = false;
        BlockOptionValues.SectorSizes sizes = BlockOptionValues.SectorSizes.DEFAULT;
        int queues = 1;
        Optional<String> serial = Optional.empty();
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            int eq = p.indexOf('=');
            String key = eq < 0 ? p : p.substring(0, eq), value = eq < 0 ? null : p.substring(eq + 1);
            switch (key) {
                case "ro" -> ro = true;
                case "nocache", "direct" -> direct = true;
                case "sync" -> sync = true;
                case "sectorsize" -> sizes = BlockOptionValues.sectorSizes(NAME, key, value);
                case "serial", "ser" -> serial = Optional.of(BlockOptionValues.serial(NAME, key, value));
                case "num-queues" -> {
                    try {
                        queues = Integer.parseInt(BlockOptionValues.need(NAME, key, value));
                    } catch (NumberFormatException e) {
                        queues = -1;
                    }
                    if (queues < 1 || queues > MAX_QUEUES) throw new DeviceConfigException("virtio-blk: num-queues=" + value + ": use 1-" + MAX_QUEUES);
                }
                default -> throw new DeviceConfigException("virtio-blk: unknown option '" + p + "' (known: ro, nocache, sync, sectorsize=, serial=, num-queues=)");
            }
        }
        return new VirtioBlockOptions(parts[0], ro, direct, sync, sizes.logical(), sizes.physical(), serial, queues);
    }
}
