package org.jhyve.devices.ahci;

/**
 * A Register Host-to-Device FIS (SATA 3.x, 10.5.5), the first bytes of a command table: either a command
 * ({@code command} true: the C bit) or a write of the device control register (SRST lives there).
 */
record CommandFis(int type, boolean command, int pmPort, int opcode, int features, long lba, int device,
                  int count, int control) {
    static final int TYPE_REGISTER_H2D = 0x27;
    /** Bytes of the FIS that carry registers; the command header's CFL must cover at least these. */
    static final int LENGTH = 20;
    static final int CONTROL_SRST = 0x04;
    /** Device register bit 6: LBA addressing; bit 7 on FPDMA commands: force unit access. */
    static final int DEVICE_LBA = 0x40, DEVICE_FUA = 0x80;

    static CommandFis parse(byte[] b) {
        long lba = u8(b, 4) | u8(b, 5) << 8 | u8(b, 6) << 16 | (long) u8(b, 8) << 24 | (long) u8(b, 9) << 32 | (long) u8(b, 10) << 40;
        return new CommandFis(u8(b, 0), (u8(b, 1) & 0x80) != 0, u8(b, 1) & 0x0f, u8(b, 2),
                u8(b, 3) | u8(b, 11) << 8, lba, u8(b, 7), u8(b, 12) | u8(b, 13) << 8, u8(b, 15));
    }

    private static int u8(byte[] b, int i) {
        return b[i] & 0xff;
    }

    /** LBA of a 28-bit command: the low 24 bits of the LBA registers and bits 27:24 from the device register. */
    long lba28() {
        return (lba & 0xff_ffff) | (long) (device & 0x0f) << 24;
    }

    /** Sector count of a 28-bit command: 0 means 256. */
    int count28() {
        int n = count & 0xff;
        return n == 0 ? 256 : n;
    }

    /** Sector count of a 48-bit command: 0 means 65536. */
    int count48() {
        return count == 0 ? 65536 : count;
    }

    /** READ/WRITE FPDMA QUEUED carry the sector count in the features registers (0 means 65536)... */
    int queuedCount() {
        return features == 0 ? 65536 : features;
    }

    /** ...and the tag in bits 7:3 of the count register. */
    int queuedTag() {
        return (count >>> 3) & 0x1f;
    }

    boolean forceUnitAccess() {
        return (device & DEVICE_FUA) != 0;
    }
}
