package org.jhyve.devices.ahci;

/**
 * The device-to-host FISes the emulated devices send, encoded as the HBA stores them in the received-FIS area
 * (SATA 3.x, 10.5): Register D2H (0x34), PIO Setup (0x5F) and Set Device Bits (0xA1).
 */
final class ReceivedFis {
    static final int TYPE_REGISTER_D2H = 0x34, TYPE_PIO_SETUP = 0x5f, TYPE_SET_DEVICE_BITS = 0xa1;
    /** Byte 1 bit 6: the device asks for an interrupt. */
    private static final int INTERRUPT = 0x40;
    /** PIO Setup byte 1 bit 5: data goes from device to host. */
    private static final int TO_HOST = 0x20;

    private ReceivedFis() {}

    static byte[] registerD2h(TaskFile tf, boolean interrupt) {
        byte[] f = new byte[20];
        f[0] = (byte) TYPE_REGISTER_D2H;
        f[1] = (byte) (interrupt ? INTERRUPT : 0);
        putRegisters(f, tf);
        return f;
    }

    /**
     * A PIO Setup FIS announcing {@code transferCount} bytes; {@code tf.status()} also goes in E_Status, the
     * status the device will have once the data block is through (for a single-block data-in command, its end).
     */
    static byte[] pioSetup(TaskFile tf, boolean toHost, boolean interrupt, int transferCount) {
        byte[] f = new byte[20];
        f[0] = (byte) TYPE_PIO_SETUP;
        f[1] = (byte) ((interrupt ? INTERRUPT : 0) | (toHost ? TO_HOST : 0));
        putRegisters(f, tf);
        f[15] = (byte) tf.status();
        f[16] = (byte) transferCount;
        f[17] = (byte) (transferCount >>> 8);
        return f;
    }

    /**
     * A Set Device Bits FIS: the new status (bits 6:4 and 2:0 only: BSY and DRQ cannot be set this way), error,
     * and the NCQ tags it completes in SActive.
     */
    static byte[] setDeviceBits(int status, int error, int completedTags, boolean interrupt) {
        byte[] f = new byte[8];
        f[0] = (byte) TYPE_SET_DEVICE_BITS;
        f[1] = (byte) (interrupt ? INTERRUPT : 0);
        f[2] = (byte) (status & 0x77);
        f[3] = (byte) error;
        f[4] = (byte) completedTags;
        f[5] = (byte) (completedTags >>> 8);
        f[6] = (byte) (completedTags >>> 16);
        f[7] = (byte) (completedTags >>> 24);
        return f;
    }

    private static void putRegisters(byte[] f, TaskFile tf) {
        f[2] = (byte) tf.status();
        f[3] = (byte) tf.error();
        f[4] = (byte) tf.lba();
        f[5] = (byte) (tf.lba() >>> 8);
        f[6] = (byte) (tf.lba() >>> 16);
        f[7] = (byte) tf.device();
        f[8] = (byte) (tf.lba() >>> 24);
        f[9] = (byte) (tf.lba() >>> 32);
        f[10] = (byte) (tf.lba() >>> 40);
        f[12] = (byte) tf.count();
        f[13] = (byte) (tf.count() >>> 8);
    }
}
