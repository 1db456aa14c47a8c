package org.jhyve.devices.ahci;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One 32-byte entry of a port's command list (AHCI 1.3, 4.2.2): the command FIS length in dwords, the ATAPI
 * and write flags, how many PRD entries the command table holds, and where that table is.
 */
record CommandHeader(int cfisDwords, boolean atapi, boolean write, int prdtLength, long tableAddress) {
    static CommandHeader parse(byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int dw0 = b.getInt(0);
        // CTBA is 128-byte aligned: its low 7 bits are reserved, whatever the guest put there.
        long table = (b.getInt(8) & 0xffff_ff80L) | (b.getInt(12) & 0xffff_ffffL) << 32;
        return new CommandHeader(dw0 & 0x1f, (dw0 & 1 << 5) != 0, (dw0 & 1 << 6) != 0, dw0 >>> 16, table);
    }

    /** Offset of PRDBC (bytes transferred), which the HBA writes back when the command completes. */
    static final int PRDBC_OFFSET = 4;
}
