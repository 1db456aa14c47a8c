package org.jhyve.devices.ahci;

/**
 * SCSI sense data (SPC-3 4.5): a sense key with its additional sense code and qualifier. An ATAPI device keeps
 * the sense of its last command for REQUEST SENSE, and reports the key in the upper nibble of the ATA error
 * register when a command fails.
 */
record ScsiSense(int key, int asc, int ascq) {
    static final int KEY_NO_SENSE = 0x0, KEY_NOT_READY = 0x2, KEY_MEDIUM_ERROR = 0x3, KEY_ILLEGAL_REQUEST = 0x5;
    static final int KEY_DATA_PROTECT = 0x7;

    static final ScsiSense NO_SENSE = new ScsiSense(KEY_NO_SENSE, 0, 0);
    static final ScsiSense MEDIUM_NOT_PRESENT = new ScsiSense(KEY_NOT_READY, 0x3a, 0x00);
    static final ScsiSense UNRECOVERED_READ_ERROR = new ScsiSense(KEY_MEDIUM_ERROR, 0x11, 0x00);
    static final ScsiSense INVALID_COMMAND_OPERATION_CODE = new ScsiSense(KEY_ILLEGAL_REQUEST, 0x20, 0x00);
    static final ScsiSense LBA_OUT_OF_RANGE = new ScsiSense(KEY_ILLEGAL_REQUEST, 0x21, 0x00);
    static final ScsiSense INVALID_FIELD_IN_CDB = new ScsiSense(KEY_ILLEGAL_REQUEST, 0x24, 0x00);
    static final ScsiSense SAVING_PARAMETERS_NOT_SUPPORTED = new ScsiSense(KEY_ILLEGAL_REQUEST, 0x39, 0x00);
    static final ScsiSense WRITE_PROTECTED = new ScsiSense(KEY_DATA_PROTECT, 0x27, 0x00);

    /** Fixed-format sense data, 18 bytes: response code 70h (current error), key, additional length 10. */
    byte[] fixedFormat() {
        byte[] s = new byte[18];
        s[0] = (byte) 0x70;
        s[2] = (byte) key;
        s[7] = 10;
        s[12] = (byte) asc;
        s[13] = (byte) ascq;
        return s;
    }
}
