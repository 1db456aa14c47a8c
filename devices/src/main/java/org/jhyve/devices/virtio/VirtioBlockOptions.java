package org.jhyve.devices.virtio;

import java.util.Optional;
import org.jhyve.devices.block.BlockOptionValues;
import org.jhyve.devices.options.OptionList;
import org.jhyve.vm.DeviceConfigException;

/**
 * The {@code -s slot,virtio-blk,PATH[,ro][,nocache][,sync|direct][,nodelete][,sectorsize=L[/P]][,serial=ID][,num-queues=N]}
 * options, as bhyve spells and means them where bhyve has them ({@link BlockOptionValues.Common}): {@code direct}
 * is O_DIRECT's opposite number here, {@code nocache}; {@code discard} is false with {@code nodelete} or {@code ro}.
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

    public static VirtioBlockOptions parse(String options) {
        OptionList list = OptionList.split(options);
        if (list.first().isEmpty()) throw new DeviceConfigException("virtio-blk needs a disk image path: -s SLOT,virtio-blk,PATH");
        BlockOptionValues.Common common = new BlockOptionValues.Common(NAME, false);
        int queues = 1;
        for (OptionList.Option o : list.rest()) {
            if (o.key().equals("num-queues")) {
                try {
                    queues = Integer.parseInt(BlockOptionValues.need(NAME, o.key(), o.value()));
                } catch (NumberFormatException e) {
                    queues = -1;
                }
                if (queues < 1 || queues > MAX_QUEUES) throw new DeviceConfigException("virtio-blk: num-queues=" + o.value() + ": use 1-" + MAX_QUEUES);
            } else if (!common.take(o)) {
                throw new DeviceConfigException("virtio-blk: unknown option '" + o.text() + "' (known: ro, nocache, sync, direct, nodelete, sectorsize=, serial=, num-queues=)");
            }
        }
        return new VirtioBlockOptions(list.first(), common.readOnly(), common.direct(), common.sync(),
                common.sizes().logical(), common.sizes().physical(), common.serial(), queues, common.discard());
    }
}
