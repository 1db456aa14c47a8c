package org.jhyve.devices.platform;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jhyve.bus.Bus;
import org.jhyve.bus.BusDevice;
import org.jhyve.irq.IrqLine;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PlatformDevice;

/**
 * QEMU's {@code pc-testdev} (bhyve's {@code -l pc-testdev}), the device kvm-unit-tests drive:
 * <ul>
 *   <li>0xe0–0xe3: a 32-bit register that reads back what was written, at any width and byte offset
 *       (realmode's I/O tests);</li>
 *   <li>0xe4–0xe7: "flush page": QEMU makes the written guest page fault once in the host. The guest sees
 *       no difference, so writes are accepted and do nothing;</li>
 *   <li>0xe8–0xeb: the same register as 0xe0, one byte at a time;</li>
 *   <li>0x2000–0x2017: one port per interrupt line: writing non-zero raises line N (GSI N), zero lowers it
 *       (the ioapic and apic tests' level and edge interrupts);</li>
 *   <li>MMIO 0xff000000, 64 KiB: plain memory kept by the device (the emulator tests' MMIO target).</li>
 * </ul>
 *
 * <p>Threads: any vCPU may access any port at once; the register is one atomic word and the MMIO
 * buffer is guarded by itself.
 */
public final class PcTestdev implements PlatformDevice {
    public static final int IOPORT = 0xe0;
    public static final int FLUSH_PAGE = 0xe4;
    public static final int IOPORT_BYTE = 0xe8;
    public static final int IRQ_LINES = 0x2000;
    public static final int IRQ_LINE_COUNT = 24;
    public static final long IOMEM = 0xff00_0000L;
    public static final int IOMEM_LENGTH = 0x10000;

    private final AtomicInteger data = new AtomicInteger();
    private final byte[] iomem = new byte[IOMEM_LENGTH];

    @Override
    public void install(MachineContext machine) {
        Bus io = machine.ioPorts();
        BusDevice register = new BusDevice() {
            @Override public long read(long offset, int size) { return readRegister(offset, size); }

            @Override public void write(long offset, int size, long value) { writeRegister(offset, size, value); }
        };
        io.register(IOPORT, 4, "pc-testdev-ioport", register);
        io.register(IOPORT_BYTE, 4, "pc-testdev-ioport-byte", register);
        io.register(FLUSH_PAGE, 4, "pc-testdev-flush-page", new BusDevice() {
            @Override public long read(long offset, int size) { return Bus.allOnes(size); }

            @Override public void write(long offset, int size, long value) { }
        });
        AtomicReferenceArray<IrqLine> lines = new AtomicReferenceArray<>(IRQ_LINE_COUNT);
        for (int i = 0; i < IRQ_LINE_COUNT; i++) lines.set(i, machine.irq(i));
        io.register(IRQ_LINES, IRQ_LINE_COUNT, "pc-testdev-irq-line", new BusDevice() {
            @Override public long read(long offset, int size) { return Bus.allOnes(size); }

            @Override
            public void write(long offset, int size, long value) {
                // QEMU accepts 1-byte writes only; a wider one drives the first line it covers.
                if (offset >= 0 && offset < IRQ_LINE_COUNT) lines.get((int) offset).set((value & 0xff) != 0);
            }
        });
        machine.mmio().register(IOMEM, IOMEM_LENGTH, "pc-testdev-iomem", new BusDevice() {
            @Override public long read(long offset, int size) { return readIomem(offset, size); }

            @Override public void write(long offset, int size, long value) { writeIomem(offset, size, value); }
        });
    }

    /** Bytes {@code [offset, offset+size)} of the 32-bit register; past its fourth byte reads 0. */
    long readRegister(long offset, int size) {
        int shift = (int) (offset & 3) * 8;
        return (Integer.toUnsignedLong(data.get()) >>> shift) & mask(size);
    }

    void writeRegister(long offset, int size, long value) {
        int shift = (int) (offset & 3) * 8;
        long m = (mask(size) << shift) & 0xffff_ffffL;
        data.updateAndGet(old -> (int) ((old & ~m) | ((value << shift) & m)));
    }

    private long readIomem(long offset, int size) {
        if (!inIomem(offset, size)) return Bus.allOnes(size);
        long v = 0;
        synchronized (iomem) {
            for (int i = 0; i < size; i++) v |= (iomem[(int) offset + i] & 0xffL) << (8 * i);
        }
        return v;
    }

    private void writeIomem(long offset, int size, long value) {
        if (!inIomem(offset, size)) return;
        synchronized (iomem) {
            for (int i = 0; i < size; i++) iomem[(int) offset + i] = (byte) (value >>> (8 * i));
        }
    }

    private static boolean inIomem(long offset, int size) {
        return offset >= 0 && size > 0 && size <= 8 && offset <= IOMEM_LENGTH - size;
    }

    private static long mask(int size) {
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }
}
