package org.jhyve.devices.virtio;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jhyve.config.ConfigNode;
import org.jhyve.devices.block.BlockOptionValues;
import org.jhyve.devices.options.LegacyOptions;
import org.jhyve.devices.options.NodeValues;
import org.jhyve.devices.options.OptionList;
import org.jhyve.vm.DeviceConfigException;

/**
 * A virtio-blk's settings, read from its node: bhyve's {@code path}, {@code ro}, {@code nocache}, {@code sync},
 * {@code direct}, {@code nodelete}, {@code sectorsize}, {@code ser} ({@link BlockOptionValues.Common}), and jhyve's
 * {@code num-queues}. The {@code -s slot,virtio-blk,PATH[,ro][,nocache][,sync|direct][,nodelete][,sectorsize=L[/P]][,serial=ID][,num-queues=N]}
 * string becomes those keys ({@link #legacyKeys}); {@code direct} is O_DIRECT's opposite number here, {@code nocache};
 * {@code discard} is false with {@code nodelete} or {@code ro}.
 */
public record VirtioBlockOptions(String path, boolean readOnly, boolean direct, boolean sync,
                                 int logicalSectorSize, int physicalSectorSize, Optional<String> serial, int queues, boolean discard) {
    /** Discard allowed unless read-only. */
    public VirtioBlockOptions(String path, boolean readOnly, boolean direct, boolean sync,
                              int logicalSectorSize, int physicalSectorSize, Optional<String> serial, int queues) {
        this(path, readOnly, direct, sync, logicalSectorSize, physicalSectorSize, serial, queues, !readOnly);
    }

    public static final int MAX_QUEUES = 16;
    /** GET_ID returns at most 20 bytes. */
    public static final int SERIAL_BYTES = BlockOptionValues.SERIAL_CHARACTERS;
    static final String NAME = "virtio-blk";

    /** The options of an {@code -s} string, as the node {@link #legacyKeys} makes of it would give them. */
    public static VirtioBlockOptions parse(String options) {
        return LegacyOptions.read(legacyKeys(options), VirtioBlockOptions::from);
    }

    /**
     * The {@code -s} string as keys of the device's node: the first part is {@code path}, the rest as bhyve's
     * legacy parsing has them (a bare flag is "true").
     *
     * @throws DeviceConfigException for an option virtio-blk does not have
     */
    public static Map<String, String> legacyKeys(String options) {
        OptionList list = OptionList.split(options);
        Map<String, String> keys = new LinkedHashMap<>();
        if (!list.first().isEmpty()) keys.put("path", list.first());
        for (OptionList.Option o : list.rest()) {
            if (o.key().equals("num-queues")) keys.put(o.key(), o.valueOr(""));
            else if (!BlockOptionValues.translate(o, keys)) {
                throw new DeviceConfigException("virtio-blk: unknown option '" + o.text() + "' (known: ro, nocache, sync, direct, nodelete, sectorsize=, serial=, num-queues=)");
            }
        }
        return keys;
    }

    /**
     * The settings of a virtio-blk's node.
     *
     * @throws org.jhyve.config.ConfigException naming the key of a bad value
     * @throws DeviceConfigException when there is no path
     */
    public static VirtioBlockOptions from(ConfigNode node) {
        String path = node.get("path").filter(p -> !p.isEmpty())
                .orElseThrow(() -> new DeviceConfigException("virtio-blk needs a disk image path: -s SLOT,virtio-blk,PATH"));
        BlockOptionValues.Common common = BlockOptionValues.Common.read(NAME, false, node);
        int queues = NodeValues.parse(node, "num-queues", VirtioBlockOptions::queues).orElse(1);
        return new VirtioBlockOptions(path, common.readOnly(), common.direct(), common.sync(),
                common.sizes().logical(), common.sizes().physical(), common.serial(), queues, common.discard());
    }

    private static int queues(String value) {
        int queues;
        try {
            queues = Integer.parseInt(BlockOptionValues.need(NAME, "num-queues", value));
        } catch (NumberFormatException e) {
            queues = -1;
        }
        if (queues < 1 || queues > MAX_QUEUES) throw new DeviceConfigException("virtio-blk: num-queues=" + value + ": use 1-" + MAX_QUEUES);
        return queues;
    }
}
