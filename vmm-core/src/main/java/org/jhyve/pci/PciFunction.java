package org.jhyve.pci;

import java.util.Arrays;
import org.jhyve.bus.Bus;
import org.jhyve.bus.BusConflictException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A type-0 PCI function: a 256-byte configuration space with the standard header's write rules
 * (read-only IDs, command bits, write-one-to-clear status, BAR sizing) and BARs that appear on the
 * port-IO or MMIO bus where the guest puts them while decoding is enabled.
 *
 * <p>Subclasses mark their own registers (capabilities) writable with {@link #setWritable} and react to
 * writes in {@link #configWritten}.
 *
 * <p>Threading rules. The guest's configuration cycles arrive through {@link PciBus}, which holds its monitor
 * for each, so {@link #configRead}, {@link #configWrite} and the hooks they call ({@link #configWritten},
 * {@link #barMapped}, BAR moves on the buses) run one at a time. The configuration bytes themselves are also read
 * by other threads without that monitor: device workers check bus mastering ({@link #busMasterEnabled}) and
 * INTx disable ({@link #intxDisabled}) and read MSI registers, vCPUs in a BAR handler do the same. So every read
 * and write of them ({@code config8}..{@code config32}, {@code setConfig*}, {@link #barAddress}) takes a lock of
 * this function's own, held only while bytes are copied and never while calling out: any thread may call the
 * readers, with any lock held, and sees each value whole as the last write left it. A value spanning several
 * reads (an MSI address and its data) may mix two guest writes, as on hardware when the guest rewrites it live.
 */
public abstract class PciFunction implements PciDevice {
    private static final Logger log = LoggerFactory.getLogger(PciFunction.class);

    public static final int VENDOR_ID = 0x00, DEVICE_ID = 0x02, COMMAND = 0x04, STATUS = 0x06;
    public static final int REVISION = 0x08, CLASS_PROG_IF = 0x09, HEADER_TYPE = 0x0e;
    public static final int BAR0 = 0x10, SUBSYSTEM_VENDOR_ID = 0x2c, SUBSYSTEM_ID = 0x2e;
    public static final int CAPABILITIES_POINTER = 0x34, INTERRUPT_LINE = 0x3c, INTERRUPT_PIN = 0x3d;
    public static final int COMMAND_IO = 0x1, COMMAND_MEMORY = 0x2, COMMAND_BUS_MASTER = 0x4, COMMAND_INTX_DISABLE = 0x400;
    public static final int STATUS_CAPABILITIES = 0x10;
    /** x86-64 allows at most 52 physical address bits; a 64-bit BAR above that cannot be decoded. */
    private static final long MAX_PHYSICAL_ADDRESS = 1L << 52;

    private final String name;
    /** Guards {@link #config}, {@link #writable} and {@link #writeOneToClear}; a leaf lock (see the class comment). */
    private final Object configLock = new Object();
    private final byte[] config = new byte[256];
    private final byte[] writable = new byte[256];
    private final byte[] writeOneToClear = new byte[256];
    private final PciBar[] bars = new PciBar[6];
    /** Where each BAR is mapped on its bus now, or -1. */
    private final long[] mappedAt = {-1, -1, -1, -1, -1, -1};
    private Bus ioBus;
    private Bus mmioBus;
    /** Where the next capability goes; the standard header ends at 0x40. */
    private int nextCapability = 0x40;
    private int lastCapability = -1;
    private MsixTable msix;
    private int msixCapability = -1;

    protected PciFunction(String name, int vendorId, int deviceId, int classCode, int revision) {
        this.name = name;
        setConfig16(VENDOR_ID, vendorId);
        setConfig16(DEVICE_ID, deviceId);
        setConfig8(REVISION, revision);
        setConfig8(CLASS_PROG_IF, classCode & 0xff);
        setConfig16(CLASS_PROG_IF + 1, classCode >>> 8);
        setWritable(COMMAND, 2, 0x0547);
        synchronized (configLock) {
            Arrays.fill(writeOneToClear, STATUS, STATUS + 2, (byte) 0);
            writeOneToClear[STATUS + 1] = (byte) 0xf9;
        }
        setWritable(0x0c, 1, 0xff); // cache line size
        setWritable(0x0d, 1, 0xff); // latency timer
        setWritable(INTERRUPT_LINE, 1, 0xff);
    }

    @Override
    public String name() { return name; }

    /** Called by the PCI bus when the function is plugged in: BARs then map onto these buses. */
    final void attach(Bus io, Bus mmio) {
        this.ioBus = io;
        this.mmioBus = mmio;
    }

    protected final void setConfig8(int offset, int value) { setBytes(offset, 1, value); }

    protected final void setConfig16(int offset, int value) { setBytes(offset, 2, value); }

    protected final void setConfig32(int offset, int value) { setBytes(offset, 4, value); }

    /** Any thread (see the class comment). */
    protected final int config8(int offset) { return bytes(offset, 1); }

    /** Any thread; the two bytes as one write left them. */
    protected final int config16(int offset) { return bytes(offset, 2); }

    /** Any thread; the four bytes as one write left them. */
    protected final int config32(int offset) { return bytes(offset, 4); }

    private void setBytes(int offset, int size, int value) {
        synchronized (configLock) {
            for (int i = 0; i < size; i++) config[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** {@code size} bytes at {@code offset}, little-endian. */
    private int bytes(int offset, int size) {
        synchronized (configLock) {
            int v = 0;
            for (int i = size - 1; i >= 0; i--) v = v << 8 | (config[offset + i] & 0xff);
            return v;
        }
    }

    /** Marks {@code len} bytes at {@code offset} as guest-writable under {@code mask} (little-endian). */
    protected final void setWritable(int offset, int len, long mask) {
        synchronized (configLock) {
            for (int i = 0; i < len; i++) writable[offset + i] = (byte) (mask >>> (8 * i));
        }
    }

    /** Declares a BAR. Its initial address is assigned by the PCI bus when the function is added. */
    protected final void addBar(PciBar bar) {
        if (bars[bar.index()] != null || (bar.index() > 0 && bars[bar.index() - 1] != null
                && bars[bar.index() - 1].kind() == PciBar.Kind.MEMORY64)) {
            throw new IllegalArgumentException(name + ": BAR " + bar.index() + " already used");
        }
        bars[bar.index()] = bar;
        int low = switch (bar.kind()) {
            case IO -> 0x1;
            case MEMORY32 -> bar.prefetchable() ? 0x8 : 0x0;
            case MEMORY64 -> 0x4 | (bar.prefetchable() ? 0x8 : 0x0);
        };
        setConfig32(BAR0 + 4 * bar.index(), low);
    }

    public final PciBar bar(int index) { return bars[index]; }

    /**
     * Appends a capability of {@code length} bytes (ID and next pointer included) to the capability list and
     * returns its offset; the caller fills the body and marks its writable parts. Capabilities are dword-aligned
     * and must fit in the 256-byte configuration space.
     */
    protected final int addCapability(int capabilityId, int length) {
        int offset = nextCapability;
        if (length < 2 || offset + length > 256) throw new IllegalArgumentException(name + ": no room for a " + length + "-byte capability");
        setConfig8(offset, capabilityId);
        setConfig8(offset + 1, 0);
        if (lastCapability < 0) {
            setConfig8(CAPABILITIES_POINTER, offset);
            setConfig16(STATUS, config16(STATUS) | STATUS_CAPABILITIES);
        } else {
            setConfig8(lastCapability + 1, offset);
        }
        lastCapability = offset;
        nextCapability = (offset + length + 3) & ~3;
        return offset;
    }

    /**
     * Adds an MSI-X capability for {@code msix}, whose table is at {@code tableOffset} and pending-bit array at
     * {@code pbaOffset} in memory BAR {@code bar} (the device's BAR must route those ranges to the table).
     * Offsets must be 8-byte aligned. The capability's enable and function-mask bits then drive the table.
     */
    protected final void addMsix(MsixTable table, int bar, long tableOffset, long pbaOffset) {
        if (msix != null) throw new IllegalStateException(name + " already has MSI-X");
        if ((tableOffset & 7) != 0 || (pbaOffset & 7) != 0) throw new IllegalArgumentException("MSI-X offsets must be 8-byte aligned");
        int cap = addCapability(0x11, 12);
        setConfig16(cap + 2, table.vectors() - 1);
        setWritable(cap + 2, 2, 0xc000); // bit 15 enable, bit 14 function mask
        setConfig32(cap + 4, (int) tableOffset | bar);
        setConfig32(cap + 8, (int) pbaOffset | bar);
        this.msix = table;
        this.msixCapability = cap;
    }

    /** Whether the guest has enabled bus mastering: a device may only DMA (touch guest RAM) while it is set. Any thread. */
    public final boolean busMasterEnabled() { return (config16(COMMAND) & COMMAND_BUS_MASTER) != 0; }

    /** Whether the guest has disabled INTx (command bit 10); MSI-X and MSI also mask INTx while enabled. Any thread. */
    public final boolean intxDisabled() { return (config16(COMMAND) & COMMAND_INTX_DISABLE) != 0; }

    /** The BAR's current guest address (from config space), whether or not decoding is on. */
    public final long barAddress(int index) {
        PciBar bar = bars[index];
        long low = config32(BAR0 + 4 * index) & 0xffffffffL;
        if (bar.kind() == PciBar.Kind.IO) return low & ~0x3L;
        long addr = low & ~0xfL;
        if (bar.kind() == PciBar.Kind.MEMORY64) addr |= (config32(BAR0 + 4 * index + 4) & 0xffffffffL) << 32;
        return addr;
    }

    /** Sets the BAR's address as firmware would (used by the bus when it assigns addresses). */
    final void assignBar(int index, long address) {
        PciBar bar = bars[index];
        int flags = config32(BAR0 + 4 * index) & (bar.isIo() ? 0x3 : 0xf);
        setConfig32(BAR0 + 4 * index, (int) address | flags);
        if (bar.kind() == PciBar.Kind.MEMORY64) setConfig32(BAR0 + 4 * index + 4, (int) (address >>> 32));
        remapBars();
    }

    @Override
    public int configRead(int offset, int size) {
        return bytes(offset, size);
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        boolean touchesBars = offset < BAR0 + 24 && offset + size > BAR0;
        // The bytes under the config lock; what follows calls out (buses, MSI-X, subclasses), so without it.
        synchronized (configLock) {
            for (int i = 0; i < size; i++) {
                int at = offset + i;
                int b = (value >>> (8 * i)) & 0xff;
                if (at >= BAR0 && at < BAR0 + 24) {
                    writeBarByte(at, b);
                } else {
                    int w = writable[at] & 0xff;
                    int c = writeOneToClear[at] & 0xff;
                    int cur = config[at] & 0xff;
                    cur = (cur & ~w) | (b & w);
                    cur &= ~(b & c);
                    config[at] = (byte) cur;
                }
            }
        }
        if (touchesBars || (offset <= COMMAND && offset + size > COMMAND)) remapBars();
        if (msix != null && offset <= msixCapability + 3 && offset + size > msixCapability + 2) {
            int control = config16(msixCapability + 2);
            msix.setControl((control & 0x8000) != 0, (control & 0x4000) != 0);
        }
        configWritten(offset, size, value);
    }

    /** Hook for subclasses: a guest write to config space has been applied. */
    protected void configWritten(int offset, int size, int value) {}

    /**
     * Hook for subclasses: BAR {@code index} now decodes at {@code address}, or at nothing ({@code -1}) when the
     * guest turned decoding off or moved it somewhere unusable. Devices that bind doorbells (ioeventfds) to BAR
     * addresses move them here.
     */
    protected void barMapped(int index, long address) {}

    /** Called with the config lock held. */
    private void writeBarByte(int at, int b) {
        assert Thread.holdsLock(configLock);
        int slot = (at - BAR0) / 4;
        int byteInSlot = (at - BAR0) % 4;
        PciBar bar = bars[slot];
        boolean upperHalf = false;
        if (bar == null && slot > 0 && bars[slot - 1] != null && bars[slot - 1].kind() == PciBar.Kind.MEMORY64) {
            bar = bars[slot - 1];
            upperHalf = true;
        }
        if (bar == null) return; // unimplemented BARs read as zero
        long sizeMask = ~(bar.size() - 1);
        long mask = upperHalf ? sizeMask >>> 32 : sizeMask & (bar.isIo() ? ~0x3L : ~0xfL);
        int byteMask = (int) (mask >>> (8 * byteInSlot)) & 0xff;
        int cur = config[at] & 0xff;
        config[at] = (byte) ((cur & ~byteMask) | (b & byteMask));
    }

    /** Puts every BAR on its bus at its configured address if decoding of its kind is on; off otherwise. */
    private void remapBars() {
        int command = config16(COMMAND);
        for (int i = 0; i < 6; i++) {
            PciBar bar = bars[i];
            if (bar == null) continue;
            Bus bus = bar.isIo() ? ioBus : mmioBus;
            if (bus == null) continue;
            boolean enabled = (command & (bar.isIo() ? COMMAND_IO : COMMAND_MEMORY)) != 0;
            long addr = barAddress(i);
            long limit = bar.isIo() ? 0x10000 : (bar.kind() == PciBar.Kind.MEMORY64 ? MAX_PHYSICAL_ADDRESS : 0x1_0000_0000L);
            // A BAR left at 0 or at its sizing pattern (all-ones) is not an address a driver meant.
            boolean usable = enabled && addr > 0 && addr <= limit - bar.size();
            long want = usable ? addr : -1;
            if (mappedAt[i] == want) continue;
            if (mappedAt[i] != -1) {
                bus.unregister(mappedAt[i]);
                mappedAt[i] = -1;
            }
            if (want != -1) {
                try {
                    bus.register(want, bar.size(), name + " BAR" + i, bar.device());
                    mappedAt[i] = want;
                } catch (BusConflictException e) {
                    // The guest put a BAR on top of something else: leave it unmapped, as a real bus would be undefined.
                    log.warn("{}: BAR{} at 0x{} not mapped: {}", name, i, Long.toHexString(want), e.getMessage());
                }
            }
            barMapped(i, mappedAt[i]);
        }
    }
}
