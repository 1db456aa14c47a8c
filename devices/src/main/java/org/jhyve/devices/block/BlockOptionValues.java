package org.jhyve.devices.block;

import java.util.Optional;
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
     * The options every disk emulation takes, gathered as a device's option loop meets them, with bhyve's
     * meanings (block_if.c): {@code ro}; {@code nocache}, no host page cache (O_DIRECT); {@code sync} or
     * {@code direct}, every write durable on return (O_SYNC); {@code nodelete}, no discard (virtio-blk's DISCARD
     * and ATA TRIM are not offered); {@code sectorsize=}, {@code serial=} (or {@code ser=}).
     * Used by one thread, while parsing.
     */
    public static final class Common {
        private final String emulation;
        private boolean readOnly, direct, sync, noDelete;
        private SectorSizes sizes = SectorSizes.DEFAULT;
        private Optional<String> serial = Optional.empty();

        /** For {@code emulation} (named in errors), read-only from the start when {@code readOnly}. */
        public Common(String emulation, boolean readOnly) {
            this.emulation = emulation;
            this.readOnly = readOnly;
        }

        /** Takes {@code o} if it is one of the common options (checking its value); false for any other. */
        public boolean take(Option o) {
            switch (o.key()) {
                case "ro" -> readOnly = true;
                case "nocache" -> direct = true;
                case "sync", "direct" -> sync = true; // bhyve's "direct" is O_SYNC, not O_DIRECT: its name is older than O_DIRECT
                case "nodelete" -> noDelete = true;
                case "sectorsize" -> sizes = sectorSizes(emulation, o.key(), o.value());
                case "serial", "ser" -> serial = Optional.of(BlockOptionValues.serial(emulation, o.key(), o.value()));
                default -> {
                    return false;
                }
            }
            return true;
        }

        public boolean readOnly() { return readOnly; }

        public boolean direct() { return direct; }

        public boolean sync() { return sync; }

        /** Whether the guest may discard (TRIM) blocks: not with {@code nodelete}, nor on a read-only disk. */
        public boolean discard() { return !noDelete && !readOnly; }

        public SectorSizes sizes() { return sizes; }

        public Optional<String> serial() { return serial; }
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
