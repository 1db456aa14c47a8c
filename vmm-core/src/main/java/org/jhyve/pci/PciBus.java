package org.jhyve.pci;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.jhyve.build.Observability;
import org.jhyve.bus.Bus;
import org.jhyve.memory.MemoryLayout;
import org.jhyve.trace.TraceEvent;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;

/**
 * PCI bus 0 (and any others): which function sits at which address, BAR address assignment as firmware
 * would do it, and configuration cycles. An empty slot or function reads as all-ones (vendor 0xFFFF),
 * which is how a guest learns nothing is there. With a {@link Tracer}, every configuration cycle is a
 * {@code pci} trace line.
 *
 * <p>Threading rules. Every method is synchronized on the bus: vCPU threads' configuration cycles run one at a
 * time, and a function's {@link PciDevice#configRead}/{@link PciDevice#configWrite} (with what they cause: BARs
 * registered on the port-IO and MMIO buses, MSI-X enable, a subclass's hooks) run holding this monitor. Device
 * workers never take it; what they need of a function's configuration they read through {@link PciFunction}'s
 * own lock.
 */
public final class PciBus {
    /** Port-IO BARs are assigned from here (below it are legacy ISA ports). */
    public static final long IO_BAR_BASE = 0x2000;
    public static final long IO_BAR_END = 0x10000;

    private final Map<PciAddress, PciDevice> functions = new TreeMap<>(
            java.util.Comparator.comparingInt(PciAddress::bus).thenComparingInt(PciAddress::slot).thenComparingInt(PciAddress::function));
    private final Bus ioBus;
    private final Bus mmioBus;
    private final Tracer tracer;
    private long nextIo = IO_BAR_BASE;
    private long nextMmio32 = MemoryLayout.PCI_MMIO32_BASE;

    public PciBus(Bus ioBus, Bus mmioBus) {
        this(ioBus, mmioBus, Tracer.off());
    }

    public PciBus(Bus ioBus, Bus mmioBus, Tracer tracer) {
        this.ioBus = ioBus;
        this.mmioBus = mmioBus;
        this.tracer = tracer;
    }

    /**
     * Plugs {@code device} in at {@code address}, assigning its BARs and enabling their decoding.
     *
     * @throws IllegalArgumentException if the address is taken (the message names it)
     */
    public synchronized void add(PciAddress address, PciDevice device) {
        if (functions.containsKey(address)) {
            throw new IllegalArgumentException("PCI slot " + address + " is already used by " + functions.get(address).name());
        }
        functions.put(address, device);
        if (device instanceof PciFunction fn) {
            fn.attach(ioBus, mmioBus);
            int command = 0;
            for (int i = 0; i < 6; i++) {
                PciBar bar = fn.bar(i);
                if (bar == null) continue;
                if (bar.isIo()) {
                    nextIo = align(nextIo, bar.size());
                    if (nextIo + bar.size() > IO_BAR_END) throw new IllegalStateException("out of PCI port-IO space");
                    fn.assignBar(i, nextIo);
                    nextIo += bar.size();
                    command |= PciFunction.COMMAND_IO;
                } else {
                    nextMmio32 = align(nextMmio32, bar.size());
                    if (nextMmio32 + bar.size() > MemoryLayout.PCI_MMIO32_END) throw new IllegalStateException("out of PCI MMIO space");
                    fn.assignBar(i, nextMmio32);
                    nextMmio32 += bar.size();
                    command |= PciFunction.COMMAND_MEMORY;
                }
            }
            if (command != 0) fn.configWrite(PciFunction.COMMAND, 2, fn.configRead(PciFunction.COMMAND, 2) | command);
        }
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    public synchronized PciDevice get(PciAddress address) {
        return functions.get(address);
    }

    public synchronized Map<PciAddress, PciDevice> functions() {
        return Collections.unmodifiableMap(new TreeMap<>(functions));
    }

    /**
     * A configuration read. Functions 1–7 of a slot without function 0 are absent too, and function 0
     * reports itself multi-function in its header type when its siblings exist.
     */
    public synchronized int configRead(int bus, int slot, int function, int offset, int size) {
        PciDevice d = present(bus, slot, function);
        int v;
        if (d == null) {
            v = (int) Bus.allOnes(size);
        } else {
            v = d.configRead(offset, size);
            if (function == 0 && hasSiblings(bus, slot) && offset <= PciFunction.HEADER_TYPE && offset + size > PciFunction.HEADER_TYPE) {
                v |= 0x80 << (8 * (PciFunction.HEADER_TYPE - offset));
            }
        }
        if (Observability.HOOKS && tracer.enabled(TraceKind.PCI)) trace(d, bus, slot, function, offset, size, false, v);
        return v;
    }

    public synchronized void configWrite(int bus, int slot, int function, int offset, int size, int value) {
        PciDevice d = present(bus, slot, function);
        if (Observability.HOOKS && tracer.enabled(TraceKind.PCI)) trace(d, bus, slot, function, offset, size, true, (int) (value & Bus.allOnes(size)));
        if (d != null) d.configWrite(offset, size, value);
    }

    private void trace(PciDevice d, int bus, int slot, int function, int offset, int size, boolean write, int value) {
        tracer.record(new TraceEvent.PciConfig(bus, slot, function, offset, size, write, value, d == null ? "empty" : d.name()));
    }

    private PciDevice present(int bus, int slot, int function) {
        if (function != 0 && !functions.containsKey(new PciAddress(bus, slot, 0))) return null;
        return functions.get(new PciAddress(bus, slot, function));
    }

    private boolean hasSiblings(int bus, int slot) {
        for (int f = 1; f < 8; f++) {
            if (functions.containsKey(new PciAddress(bus, slot, f))) return true;
        }
        return false;
    }
}
