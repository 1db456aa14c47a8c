package org.jhyve.examples;

import org.jhyve.bus.BusDevice;
import org.jhyve.pci.PciBar;
import org.jhyve.pci.PciFunction;
import org.jhyve.vm.PciDeviceFactory;

/**
 * A complete custom PCI device: vendor 0x1234, device 0x0c0c, with one 4 KiB memory BAR holding three
 * 32-bit registers. The guest program guests/src/main/asm/counter.s drives it.
 *
 * <pre>
 *   BAR0 + 0x0  VALUE     read/write: the last value the guest wrote
 *   BAR0 + 0x4  RESULT    read-only:  VALUE + 1
 *   BAR0 + 0x8  ACCESSES  read-only:  how many BAR accesses came before this one
 * </pre>
 *
 * {@link PciFunction} does the PCI side: the configuration space header, BAR sizing by the guest, and
 * putting the BAR on the MMIO bus where the guest (or jhyve's PCI bus, at plug-in time) places it. The device
 * only answers reads and writes at offsets into its BAR. Those come from vCPU threads, one exit each, so the
 * register state is guarded by the device's lock.
 */
public final class CounterDevice extends PciFunction {
    public static final int VENDOR = 0x1234;
    public static final int DEVICE = 0x0c0c;
    /** Base class 0xff: "a device that does not fit any defined class". */
    public static final int CLASS_OTHER = 0xff0000;
    public static final int VALUE = 0x0, RESULT = 0x4, ACCESSES = 0x8;

    private int value;
    private long accesses;

    public CounterDevice() {
        super("counter", VENDOR, DEVICE, CLASS_OTHER, 1);
        // BAR0: 32-bit, non-prefetchable memory (its reads have no side effects here, but RESULT could have).
        addBar(new PciBar(0, PciBar.Kind.MEMORY32, 4096, false, new Registers()));
    }

    /**
     * How {@code VmBuilder.pci} plugs it in: a factory gets the machine, the address and an options string
     * (what follows the name in {@code -s SLOT,NAME,OPTIONS}). This device needs none of them.
     */
    public static PciDeviceFactory factory(CounterDevice device) {
        return (machine, address, options) -> device;
    }

    /** The value the guest last wrote to VALUE. */
    public synchronized int value() { return value; }

    /** Guest reads and writes of the BAR so far. */
    public synchronized long accesses() { return accesses; }

    /** The BAR's contents. Offsets are relative to the BAR, wherever the guest put it. */
    private final class Registers implements BusDevice {
        @Override
        public long read(long offset, int size) {
            synchronized (CounterDevice.this) {
                long before = accesses++;
                long register = switch ((int) (offset & ~3)) { // a narrower read sees part of its register
                    case VALUE -> value;
                    case RESULT -> value + 1;
                    case ACCESSES -> before;
                    default -> 0; // the rest of the 4 KiB reads as zero
                };
                return (register & 0xffff_ffffL) >>> (8 * (offset & 3));
            }
        }

        @Override
        public void write(long offset, int size, long v) {
            synchronized (CounterDevice.this) {
                accesses++;
                if (offset == VALUE && size == 4) value = (int) v; // other writes are ignored, as by hardware
            }
        }
    }
}
