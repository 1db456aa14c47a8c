package org.jhyve.devices.ahci;

import java.util.Optional;

/**
 * The transfer mode SET FEATURES selected, in its own encoding (the count register of subcommand 03h): only
 * reported back in IDENTIFY words 63 and 88, since data moves at memory speed whatever the guest picks.
 */
record TransferMode(int code) {
    /** Ultra DMA mode 6, what a SATA device runs at until told otherwise. */
    static final TransferMode DEFAULT = new TransferMode(0x46);

    /** The mode for a SET FEATURES count value: PIO default (00h/01h), PIO 0-4, multiword DMA 0-2, UDMA 0-6. */
    static Optional<TransferMode> of(int count) {
        int kind = count & 0xf8, mode = count & 7;
        boolean valid = count == 0 || count == 1 || (kind == 0x08 && mode <= 4) || (kind == 0x20 && mode <= 2) || (kind == 0x40 && mode <= 6);
        return valid ? Optional.of(new TransferMode(count)) : Optional.empty();
    }

    /** IDENTIFY word 63: multiword DMA modes 0-2 supported, and the selected one. */
    int word63() {
        return 0x0007 | ((code & 0xf8) == 0x20 ? 0x100 << (code & 7) : 0);
    }

    /** IDENTIFY word 88: Ultra DMA modes 0-6 supported, and the selected one. */
    int word88() {
        return 0x007f | ((code & 0xf8) == 0x40 ? 0x100 << (code & 7) : 0);
    }
}
