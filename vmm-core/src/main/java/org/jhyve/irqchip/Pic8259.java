package org.jhyve.irqchip;

/**
 * One 8259A programmable interrupt controller: eight request inputs, the IRR/ISR/IMR registers, the ICW1-ICW4
 * initialisation sequence and the OCW1-OCW3 commands. Edge or level sensing per input comes from the chipset's
 * ELCR (the PIIX ignores ICW1's LTIM bit, and so does this model).
 *
 * <p>Threading rules: none of its own; {@link CascadedPics} owns both chips and calls them with its lock held.
 */
final class Pic8259 {
    private final boolean master;
    /** Inputs that may be level-sensitive (the ELCR bits that exist). */
    private final int elcrWritable;

    private int irr;
    private int isr;
    private int imr;
    /** Each input's current level, for edge detection. */
    private int lines;
    private int elcr;
    private int vectorBase;
    /** The input with the lowest priority; the one after it has the highest (7 after reset: IRQ0 highest). */
    private int lowestPriority = 7;
    /** 0 when initialised; 2, 3, 4 while ICW2, ICW3, ICW4 are awaited. */
    private int initStep;
    private boolean expectIcw4;
    private boolean singleMode;
    private boolean autoEoi;
    private boolean rotateOnAutoEoi;
    private boolean specialFullyNested;
    private boolean specialMask;
    private boolean readIsr;
    private boolean poll;

    Pic8259(boolean master) {
        this.master = master;
        this.elcrWritable = master ? 0xF8 : 0xDE; // IRQ 0, 1, 2 and 8, 13 are always edge
    }

    /** Drives input {@code irq} (0-7). */
    void setInput(int irq, boolean level) {
        int bit = 1 << irq;
        if ((elcr & bit) != 0) {
            irr = level ? irr | bit : irr & ~bit;
        } else if (level && (lines & bit) == 0) {
            irr |= bit; // an edge request stays latched after the line drops, until acknowledged
        }
        lines = level ? lines | bit : lines & ~bit;
    }

    /** The input that would be acknowledged now, or -1: the highest-priority unmasked request above any in service. */
    int pendingInput() {
        int request = highestPriority(irr & ~imr);
        if (request < 0) return -1;
        int inService = specialMask ? isr & ~imr : isr;
        if (master && specialFullyNested) inService &= ~(1 << 2); // the slave may nest its own priorities
        int serving = highestPriority(inService);
        return serving < 0 || rank(request) < rank(serving) ? request : -1;
    }

    /** The INTA cycle for {@code irq}: the request moves to in-service (or straight through with auto-EOI). */
    void acknowledge(int irq) {
        int bit = 1 << irq;
        if (autoEoi) {
            if (rotateOnAutoEoi) lowestPriority = irq;
        } else {
            isr |= bit;
        }
        if ((elcr & bit) == 0) irr &= ~bit;
    }

    int vectorBase() {
        return vectorBase;
    }

    int elcr() {
        return elcr;
    }

    void setElcr(int value) {
        elcr = value & elcrWritable;
        irr = (irr & ~elcr) | (lines & elcr); // level inputs follow the wire
    }

    /** A read of the command port (offset 0): a poll result, or IRR or ISR as OCW3 chose. */
    int readCommand() {
        if (poll) {
            poll = false;
            int irq = pendingInput();
            if (irq < 0) return 0;
            acknowledge(irq);
            return 0x80 | irq;
        }
        return readIsr ? isr : irr;
    }

    /** A read of the data port (offset 1): the interrupt mask. */
    int readData() {
        return imr;
    }

    /** Whether the next command-port read is a poll (OCW3 P bit). */
    boolean pollArmed() {
        return poll;
    }

    /** Drops a latched request without servicing it (the master's cascade input after the slave was polled). */
    void clearRequest(int irq) {
        irr &= ~(1 << irq) | elcr;
    }

    void writeCommand(int value) {
        if ((value & 0x10) != 0) {
            initialise(value);
        } else if ((value & 0x08) != 0) {
            operationCommand3(value);
        } else {
            operationCommand2(value);
        }
    }

    void writeData(int value) {
        switch (initStep) {
            case 2 -> {
                vectorBase = value & 0xF8;
                initStep = singleMode ? (expectIcw4 ? 4 : 0) : 3;
            }
            case 3 -> initStep = expectIcw4 ? 4 : 0; // the cascade wiring is fixed: slave on master IRQ2
            case 4 -> {
                autoEoi = (value & 0x02) != 0;
                specialFullyNested = (value & 0x10) != 0;
                initStep = 0;
            }
            default -> imr = value & 0xFF;
        }
    }

    private void initialise(int icw1) {
        expectIcw4 = (icw1 & 0x01) != 0;
        singleMode = (icw1 & 0x02) != 0;
        irr &= elcr; // pending edges are forgotten; level inputs still request
        isr = 0;
        imr = 0;
        lowestPriority = 7;
        autoEoi = false;
        rotateOnAutoEoi = false;
        specialFullyNested = false;
        specialMask = false;
        readIsr = false;
        poll = false;
        initStep = 2;
    }

    private void operationCommand2(int value) {
        int level = value & 7;
        switch (value >> 5) {
            case 0b001 -> endOfInterrupt(highestPriority(isr), false);
            case 0b011 -> endOfInterrupt(level, false);
            case 0b101 -> endOfInterrupt(highestPriority(isr), true);
            case 0b111 -> endOfInterrupt(level, true);
            case 0b100 -> rotateOnAutoEoi = true;
            case 0b000 -> rotateOnAutoEoi = false;
            case 0b110 -> lowestPriority = level;
            default -> { } // 0b010: no operation
        }
    }

    private void endOfInterrupt(int irq, boolean rotate) {
        if (irq < 0) return;
        isr &= ~(1 << irq);
        if (rotate) lowestPriority = irq;
    }

    private void operationCommand3(int value) {
        if ((value & 0x40) != 0) specialMask = (value & 0x20) != 0;
        poll = (value & 0x04) != 0;
        if ((value & 0x02) != 0) readIsr = (value & 0x01) != 0;
    }

    /** 0 for the highest-priority input, 7 for the lowest. */
    private int rank(int irq) {
        return (irq - lowestPriority - 1) & 7;
    }

    private int highestPriority(int mask) {
        if ((mask & 0xFF) == 0) return -1;
        for (int i = 1; i <= 8; i++) {
            int irq = (lowestPriority + i) & 7;
            if ((mask & (1 << irq)) != 0) return irq;
        }
        return -1;
    }

    /** Whether the chip is in the middle of its initialisation sequence. */
    boolean initialising() {
        return initStep != 0;
    }
}
