package org.jhyve.devices.block;

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
