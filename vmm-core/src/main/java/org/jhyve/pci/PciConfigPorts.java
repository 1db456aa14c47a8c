package org.jhyve.pci;

import org.jhyve.bus.BusDevice;

/**
 * PCI configuration mechanism #1: the address register at 0xCF8 and the data window at 0xCFC–0xCFF.
 * Registered over 0xCF8–0xCFF (8 ports). A byte access to 0xCF9 is not part of mechanism #1 but the
 * chipset's reset control register, as on Intel PCHs; a write with bit 2 (and bit 1: hard reset) set
 * asks for a system reset through {@code resetRequest}.
 */
public final class PciConfigPorts implements BusDevice {
    public static final int BASE = 0xcf8;
    public static final int LENGTH = 8;
    private static final int RESET_CONTROL_OFFSET = 1;

    private final PciBus pci;
    private final Runnable resetRequest;
    private int address;
    private int resetControl;

    public PciConfigPorts(PciBus pci, Runnable resetRequest) {
        this.pci = pci;
        this.resetRequest = resetRequest;
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset == 0 && size == 4) return address & 0xffffffffL;
        if (offset == RESET_CONTROL_OFFSET && size == 1) return resetControl;
        if (offset >= 4) return dataRead((int) offset - 4, size);
        return -1L;
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (offset == 0 && size == 4) {
            address = (int) value & 0x80ff_fffc;
        } else if (offset == RESET_CONTROL_OFFSET && size == 1) {
            resetControl = (int) value & 0x0e;
            if ((value & 0x4) != 0) resetRequest.run();
        } else if (offset >= 4) {
            dataWrite((int) offset - 4, size, (int) value);
        }
    }

    private boolean enabled() { return (address & 0x8000_0000) != 0; }

    private int bus() { return (address >>> 16) & 0xff; }

    private int slot() { return (address >>> 11) & 0x1f; }

    private int function() { return (address >>> 8) & 0x7; }

    private int register(int byteInWindow) { return (address & 0xfc) + byteInWindow; }

    private long dataRead(int byteInWindow, int size) {
        if (!enabled() || byteInWindow + size > 4) return -1L;
        return pci.configRead(bus(), slot(), function(), register(byteInWindow), size) & 0xffffffffL;
    }

    private void dataWrite(int byteInWindow, int size, int value) {
        if (!enabled() || byteInWindow + size > 4) return;
        pci.configWrite(bus(), slot(), function(), register(byteInWindow), size, value);
    }
}
