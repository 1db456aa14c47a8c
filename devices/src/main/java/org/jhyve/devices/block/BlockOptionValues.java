package org.jhyve.devices.block;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jhyve.config.ConfigException;
import org.jhyve.config.ConfigNode;
import org.jhyve.devices.options.NodeValues;
import org.jhyve.devices.options.OptionList.Option;
import org.jhyve.vm.DeviceConfigException;

/**
 * The values of the block options every disk emulation shares (bhyve's {@code sectorsize=}, {@code serial=}),
 * checked the same way for each, with errors that name the emulation ({@code virtio-blk}, {@code ahci-hd}).
 */
public final class BlockOptionValues {
    /** Both IDENTIFY's serial number and virtio-blk's GET_ID hold 20 bytes. */
    public static final int SERIAL_CHARACTERS = 20;

    /** Logical and physical sector sizes in bytes. */
    public record SectorSizes(int logical, int physical) {
        public static final SectorSizes DEFAULT = new SectorSizes(512, 512);
    }

    private BlockOptionValues() {}

    /**
     * The settings every disk emulation shares, read from its node with bhyve's meanings (block_if.c): {@code ro};
     * {@code nocache}, no host page cache (O_DIRECT); {@code sync} or {@code direct}, every write durable on
     * return (O_SYNC: bhyve's "direct" is older than O_DIRECT); {@code nodelete}, no discard (virtio-blk's DISCARD
     * and ATA TRIM are not offered, nor on a read-only disk); {@code sectorsize=}, {@code ser=} (or jhyve's
     * {@code serial=}).
     */
    public record Common(boolean readOnly, boolean direct, boolean sync, boolean discard, SectorSizes sizes, Optional<String> serial) {
        /**
         * The common settings of {@code node}, for {@code emulation} (named in errors), read-only from the start when
         * {@code readOnly} (a CD-ROM).
         *
         * @throws ConfigException naming the key of a bad value
         */
        public static Common read(String emulation, boolean readOnly, ConfigNode node) {
            boolean ro = node.bool("ro", false) | readOnly;
            boolean direct = node.bool("nocache", false);
            boolean sync = node.bool("sync", false) | node.bool("direct", false);
            boolean noDelete = node.bool("nodelete", false);
            SectorSizes sizes = NodeValues.parse(node, "sectorsize", v -> sectorSizes(emulation, "sectorsize", v)).orElse(SectorSizes.DEFAULT);
            Optional<String> serial = Optional.empty();
            for (String name : SERIAL_KEYS) {
                Optional<String> value = NodeValues.parse(node, name, v -> BlockOptionValues.serial(emulation, name, v));
                if (value.isPresent()) serial = value;
            }
            return new Common(ro, direct, sync, !noDelete && !ro, sizes, serial);
        }
    }

    /** jhyve's serial= and bhyve's ser=; ser wins when both are set. */
    private static final List<String> SERIAL_KEYS = List.of("serial", "ser");
    private static final Set<String> FLAGS = Set.of("ro", "nocache", "sync", "direct", "nodelete");

    /**
     * An option of an {@code -s} string, when it is a common one, as its key of the device's node: a bare flag
     * ({@code ro}) is "true", as bhyve's legacy parsing makes it; a value option keeps its value ("" for none,
     * which {@link Common#read} refuses). False, and nothing put, for any other option.
     */
    public static boolean translate(Option o, Map<String, String> keys) {
        if (FLAGS.contains(o.key())) keys.put(o.key(), o.valueOr("true"));
        else if (o.key().equals("sectorsize") || SERIAL_KEYS.contains(o.key())) keys.put(o.key(), o.valueOr(""));
        else return false;
        return true;
    }

    /** {@code value} of {@code key=}, which must not be empty. */
    public static String need(String emulation, String key, String value) {
        if (value == null || value.isEmpty()) throw new DeviceConfigException(emulation + ": " + key + "= needs a value");
        return value;
    }

    /** {@code sectorsize=LOGICAL[/PHYSICAL]}: powers of two from 512 to 65536, physical at least logical. */
    public static SectorSizes sectorSizes(String emulation, String key, String value) {
        String[] lp = need(emulation, key, value).split("/", -1);
        int logical = sectorSize(emulation, lp[0]);
        int physical = lp.length > 1 ? sectorSize(emulation, lp[1]) : logical;
        if (lp.length > 2 || physical < logical) {
            throw new DeviceConfigException(emulation + ": sectorsize=" + value + ": use LOGICAL or LOGICAL/PHYSICAL, physical >= logical");
        }
        return new SectorSizes(logical, physical);
    }

    /** {@code serial=ID}: at most 20 printable ASCII characters. */
    public static String serial(String emulation, String key, String value) {
        String s = need(emulation, key, value);
        if (s.length() > SERIAL_CHARACTERS || !s.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            throw new DeviceConfigException(emulation + ": serial=" + s + ": at most 20 printable ASCII characters");
        }
        return s;
    }

    private static int sectorSize(String emulation, String s) {
        int v;
        try {
            v = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            v = -1;
        }
        // ATA's logical sector size is a count of 16-bit words in IDENTIFY words 117-118; 64 KiB keeps it sane.
        if (v < 512 || v > 65536 || Integer.bitCount(v) != 1) {
            throw new DeviceConfigException(emulation + ": sector size " + s + " is not a power of two from 512 to 65536");
        }
        return v;
    }
}
