package org.jhyve.pci;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.jhyve.bus.Bus;
import org.jhyve.bus.BusDevice;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Findings;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;

/**
 * Fuzz target for PCI configuration space and MSI-X (docs/reliability.md): a guest's sequence of configuration
 * cycles through the 0xCF8/0xCFC ports (any width, any offset, BAR sizing and moving, the command register,
 * capabilities), MMIO accesses to wherever the BARs are now (the MSI-X table and pending-bit array included),
 * and device-side MSI-X signals, on a bus with two functions whose BARs the guest may put on top of each other.
 *
 * <p>Documented exceptions: none. Asserted: the read-only header (IDs, class, header type) stays as built; a
 * message reaches the MSI sink only while MSI-X is enabled and the function unmasked, and only as the contents
 * of an unmasked vector's entry; a vector left pending is masked (or MSI-X is off or the function masked);
 * signals to vectors that do not exist return false.
 */
class PciConfigFuzzTest {
    private static final int VENDOR = 0x1af4, DEVICE = 0x10f0, CLASS = 0x018000;

    /** A function with an MSI-X table in BAR0, a 64-bit BAR and an I/O BAR, as devices have them. */
    static final class MsixFunction extends PciFunction {
        final MsixTable msix;

        MsixFunction(String name, int vectors, Findings findings) {
            super(name, VENDOR, DEVICE, CLASS, 1);
            MsixTable[] self = new MsixTable[1];
            msix = new MsixTable(vectors, (address, data) -> checkMessage(self[0], address, data, findings));
            self[0] = msix;
            addBar(new PciBar(0, PciBar.Kind.MEMORY32, 0x10000, false, new BusDevice() {
                @Override public long read(long offset, int size) {
                    return offset < 0x8000 ? msix.readTable(offset, size) : msix.readPba(offset - 0x8000, size);
                }

                @Override public void write(long offset, int size, long value) {
                    if (offset < 0x8000) msix.writeTable(offset, size, value);
                }
            }));
            addBar(new PciBar(2, PciBar.Kind.MEMORY64, 0x4000, true, NOTHING));
            addBar(new PciBar(4, PciBar.Kind.IO, 0x40, false, NOTHING));
            addCapability(0x09, 16);
            setWritable(0x44, 8, -1L);
            addMsix(msix, 0, 0, 0x8000);
            setConfig8(INTERRUPT_PIN, 1);
        }
    }

    private static final BusDevice NOTHING = new BusDevice() {
        @Override public long read(long offset, int size) { return 0; }
        @Override public void write(long offset, int size, long value) { }
    };

    /** Called by the table with its lock held (the sink is called from inside it), so its state is the sender's. */
    private static void checkMessage(MsixTable table, long address, int data, Findings findings) {
        if (!table.enabled()) findings.add("MSI-X message sent while MSI-X is disabled");
        for (int v = 0; v < table.vectors(); v++) {
            long entry = table.readTable(16L * v, 8);
            boolean unmasked = (table.readTable(16L * v + 12, 4) & 1) == 0;
            if (unmasked && entry == address && (int) table.readTable(16L * v + 8, 4) == data) return;
        }
        findings.add(String.format("MSI-X message 0x%x/0x%x is no unmasked vector's", address, data));
    }

    @FuzzTest(maxDuration = "10s")
    void configCycles(FuzzedDataProvider data) {
        Findings findings = new Findings("pci-config");
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> e.thrown() != null)) {
            run(data, findings);
        } finally {
            findings.throwIfAny();
        }
    }

    private static void run(FuzzedDataProvider data, Findings findings) {
        Bus io = new Bus("port-io", TraceKind.PIO, Tracer.off());
        Bus mmio = new Bus("mmio", TraceKind.MMIO, Tracer.off());
        PciBus pci = new PciBus(io, mmio);
        io.register(PciConfigPorts.BASE, PciConfigPorts.LENGTH, "pci-config", new PciConfigPorts(pci, () -> { }));
        MsixFunction[] functions = {
            new MsixFunction("a", data.consumeInt(1, 2048), findings),
            new MsixFunction("b", data.consumeInt(1, 64), findings)
        };
        pci.add(new PciAddress(0, 3, 0), functions[0]);
        // The second function shares slot 3 (as function 1) or has slot 4 to itself.
        pci.add(data.consumeBoolean() ? new PciAddress(0, 3, 1) : new PciAddress(0, 4, 0), functions[1]);

        int[] widths = {1, 2, 4, 8};
        int ops = 0;
        while (data.remainingBytes() > 0 && ops++ < 512) {
            int size = widths[data.consumeInt(0, 3)];
            switch (data.consumeInt(0, 5)) {
                case 0 -> io.write(PciConfigPorts.BASE, 4, data.consumeBoolean()
                        ? 0x8000_0000L | (long) data.consumeInt(3, 4) << 11 | (long) data.consumeInt(0, 7) << 8 | data.consumeInt(0, 255)
                        : data.consumeInt() & 0xffff_ffffL);
                case 1 -> io.write(PciConfigPorts.BASE + data.consumeInt(0, 7), size, data.consumeLong());
                case 2 -> io.read(PciConfigPorts.BASE + data.consumeInt(0, 7), size);
                case 3 -> {
                    MsixFunction f = functions[data.consumeInt(0, 1)];
                    long at = f.barAddress(data.consumeInt(0, 2) * 2) + data.consumeLong(-8, 0x10008);
                    mmio.write(at, size, data.consumeLong());
                }
                case 4 -> {
                    MsixFunction f = functions[data.consumeInt(0, 1)];
                    mmio.read(f.barAddress(data.consumeInt(0, 2) * 2) + data.consumeLong(-8, 0x10008), size);
                }
                default -> {
                    MsixFunction f = functions[data.consumeInt(0, 1)];
                    int vector = data.consumeInt(-2, 2050);
                    boolean sent = f.msix.signal(vector);
                    if (sent && (vector < 0 || vector >= f.msix.vectors())) findings.add("signal of vector " + vector + " of " + f.msix.vectors() + " returned true");
                }
            }
        }
        for (MsixFunction f : functions) {
            findings.check(f.configRead(PciFunction.VENDOR_ID, 2) == VENDOR && f.configRead(PciFunction.DEVICE_ID, 2) == DEVICE,
                    f.name() + ": vendor/device ID changed by the guest");
            findings.check((f.configRead(PciFunction.CLASS_PROG_IF, 4) & 0xffffff) == CLASS, f.name() + ": class code changed by the guest");
            findings.check((f.configRead(PciFunction.HEADER_TYPE, 1) & 0x7f) == 0, f.name() + ": header type changed by the guest");
            boolean delivering = f.msix.enabled() && (f.configRead(msixCapabilityOf(f) + 2, 2) & 0x4000) == 0;
            for (int v = 0; delivering && v < f.msix.vectors(); v++) {
                boolean masked = (f.msix.readTable(16L * v + 12, 4) & 1) != 0;
                if (f.msix.isPending(v) && !masked) findings.add(f.name() + ": vector " + v + " is pending and unmasked with MSI-X delivering");
            }
        }
    }

    /** The MSI-X capability's offset, found by walking the list as a driver does. */
    private static int msixCapabilityOf(PciFunction f) {
        int at = f.configRead(PciFunction.CAPABILITIES_POINTER, 1);
        for (int hops = 0; at != 0 && hops < 48; hops++) {
            if (f.configRead(at, 1) == 0x11) return at;
            at = f.configRead(at + 1, 1);
        }
        throw new AssertionError("no MSI-X capability");
    }
}
