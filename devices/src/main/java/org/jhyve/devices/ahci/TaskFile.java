package org.jhyve.devices.ahci;

/**
 * The ATA task-file registers a device reports at the end of a command, as carried by a device-to-host FIS:
 * status, error, device, the 48-bit LBA and the 16-bit count. {@code tfd()} is the value of PxTFD.
 */
record TaskFile(int status, int error, int device, long lba, int count) {
    /** Status bits (ATA8-ACS 6.2). For ATAPI, bit 0 is CHK; both mean "look at the error register". */
    static final int BSY = 0x80, DRDY = 0x40, DF = 0x20, DSC = 0x10, DRQ = 0x08, ERR = 0x01;
    /** Error bits. For ATAPI the upper nibble of the error register is the sense key instead. */
    static final int ABRT = 0x04, IDNF = 0x10, UNC = 0x40;

    /** A command that worked: ready, seek complete, no error. */
    static TaskFile ok() {
        return new TaskFile(DRDY | DSC, 0, 0, 0, 0);
    }

    /** The device refused or failed the command: ERR with {@code error} (ABRT, IDNF, UNC), LBA {@code lba}. */
    static TaskFile failed(int error, long lba) {
        return new TaskFile(DRDY | ERR, error, 0, lba, 0);
    }

    static TaskFile aborted() {
        return failed(ABRT, 0);
    }

    TaskFile withCount(int count) {
        return new TaskFile(status, error, device, lba, count);
    }

    boolean isError() {
        return (status & ERR) != 0;
    }

    /** PxTFD: error register in bits 15:8, status in 7:0. */
    int tfd() {
        return (error & 0xff) << 8 | (status & 0xff);
    }

    /**
     * PxSIG as the HBA latches it from the first D2H FIS after a reset: LBA high, LBA mid, LBA low, count
     * (0x00000101 for an ATA disk, 0xEB140101 for an ATAPI device).
     */
    int signature() {
        return (int) ((lba >>> 16) & 0xff) << 24 | (int) ((lba >>> 8) & 0xff) << 16 | (int) (lba & 0xff) << 8 | (count & 0xff);
    }
}
