package org.jhyve.devices.pci;

import org.jhyve.irq.IrqLine;

/**
 * One ISA interrupt line that two devices drive, as COM1 and COM3 share IRQ 4 (COM2 and COM4 IRQ 3): the line
 * is asserted while either source asserts it, so one UART lowering its request does not drop the other's.
 * Each source is used by its UART's threads (vCPU and backend) under the UART's lock; the two sources are
 * different UARTs, hence the lock here.
 */
final class SharedIrqLine {
    private final IrqLine line;
    private int assertedMask;

    SharedIrqLine(IrqLine line) {
        this.line = line;
    }

    /** The {@code index}-th source (0 or 1 of the ports on this line). */
    IrqLine source(int index) {
        int bit = 1 << index;
        return asserted -> set(bit, asserted);
    }

    private synchronized void set(int bit, boolean asserted) {
        boolean before = assertedMask != 0;
        assertedMask = asserted ? assertedMask | bit : assertedMask & ~bit;
        boolean after = assertedMask != 0;
        if (before != after) line.set(after);
    }
}
