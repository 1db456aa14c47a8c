package org.jhyve.devices.virtio;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.bus.BusDevice;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.hv.Doorbell;
import org.jhyve.irq.IrqLine;
import org.jhyve.irq.MsiSink;
import org.jhyve.memory.GuestMemory;
import org.jhyve.pci.MsixTable;
import org.jhyve.pci.PciBar;
import org.jhyve.pci.PciFunction;
import org.jhyve.vm.MachineContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The virtio 1.x PCI transport, modern interface only (virtio 1.2, 4.1): vendor capabilities pointing at
 * the common, notify, ISR and device configuration structures in BAR0, the PCI-configuration access window,
 * and MSI-X with INTx as fallback. Modern-only suffices: every Linux since 4.0 and every other current
 * driver speaks it (see docs/devices.md).
 *
 * <p>BAR0 (32 KiB, 32-bit memory) holds, at fixed offsets: common configuration 0x0000, ISR 0x1000, device
 * configuration 0x2000, queue notify 0x3000 (4 bytes per queue), MSI-X table 0x4000 and PBA 0x5000.
 * Queue notifications are bound to doorbells (KVM ioeventfds) while the device runs, so a kick costs the
 * vCPU no exit to the VMM; the worker threads of the device wait on them.
 *
 * <p>Every register the driver writes is a guest value: selectors, sizes, vectors and addresses are checked
 * (unsigned) where they are used, out-of-range ones read back as the spec's "none" (0, NO_VECTOR) and are
 * never used to index anything. A queue the driver set up wrong, or broke later, sets DEVICE_NEEDS_RESET. What
 * the guest gets wrong, and interrupts that could not be delivered, are logged rate-limited per device
 * ({@link GuestErrorLog}).
 */
public final class VirtioPciTransport extends PciFunction implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VirtioPciTransport.class);

    public static final int VENDOR_VIRTIO = 0x1af4, NO_VECTOR = 0xffff;
    static final int COMMON = 0x0000, ISR = 0x1000, DEVICE_CONFIG = 0x2000, NOTIFY = 0x3000;
    static final int MSIX_TABLE = 0x4000, MSIX_PBA = 0x5000, BAR_SIZE = 0x8000;
    static final int NOTIFY_MULTIPLIER = 4, COMMON_LENGTH = 0x38;
    private static final int CAP_VENDOR = 0x09;
    private static final int CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4, CFG_PCI = 5;
    private static final long TRANSPORT_FEATURES =
            1L << VirtioStatus.F_VERSION_1 | 1L << VirtioStatus.F_INDIRECT_DESC | 1L << VirtioStatus.F_EVENT_IDX;

    private final VirtioDevice device;
    private final GuestErrorLog errors;
    private final GuestMemory memory;
    private final MachineContext machine;
    private final IrqLine intx;
    private final MsixTable msix;
    private final long offeredFeatures;
    private final int pciCfgCap;

    // Register state; guarded by this (vCPU threads write it, worker threads read what they need via Active).
    private int deviceFeatureSelect, driverFeatureSelect;
    private long driverFeatures;
    private int status;
    /** config_generation: moves when the device configuration changes under the driver (a link going down). */
    private final AtomicInteger configGeneration = new AtomicInteger();
    private volatile int configMsixVector = NO_VECTOR;
    private int queueSelect;
    private final QueueRegisters[] queueRegs;
    /** Worker threads interrupt without the transport lock (a reset holds it while it waits for them). */
    private final Object irqLock = new Object();
    private int isr;
    /** Set by a worker that found the driver broke a queue; shows as DEVICE_NEEDS_RESET until reset. */
    private volatile boolean failed;
    private volatile Active active;
    /**
     * A reset whose workers have not all stopped (one is stuck in its backend): until they have, device_status
     * reads {@link #statusDuringReset} and status writes are ignored, since the reset is not complete (virtio
     * 1.2, 2.4.1: the driver waits for device_status to read 0). The resetting vCPU does not wait for them.
     */
    private Active resetting;
    private int statusDuringReset;
    private long bar0 = -1;

    public VirtioPciTransport(String name, VirtioDevice device, MachineContext machine, IrqLine intx, int intxGsi) {
        this(name, device, machine, intx, intxGsi, new GuestErrorLog(log, name));
    }

    /** As above, reporting the guest's mistakes to {@code errors} (tests count the lines). */
    VirtioPciTransport(String name, VirtioDevice device, MachineContext machine, IrqLine intx, int intxGsi, GuestErrorLog errors) {
        super(name, VENDOR_VIRTIO, 0x1040 + device.deviceType(), device.pciClassCode(), 1);
        this.device = device;
        this.errors = errors;
        this.machine = machine;
        this.memory = machine.memory();
        this.intx = intx;
        this.offeredFeatures = device.deviceFeatures() | TRANSPORT_FEATURES;
        this.queueRegs = new QueueRegisters[device.queueCount()];
        for (int i = 0; i < queueRegs.length; i++) queueRegs[i] = new QueueRegisters(device.maxQueueSize());
        setConfig16(SUBSYSTEM_VENDOR_ID, VENDOR_VIRTIO);
        setConfig16(SUBSYSTEM_ID, 0x40 + device.deviceType());
        setConfig8(INTERRUPT_PIN, 1);
        setConfig8(INTERRUPT_LINE, intxGsi);
        addBar(new PciBar(0, PciBar.Kind.MEMORY32, BAR_SIZE, false, new Bar0()));
        addVirtioCap(CFG_COMMON, COMMON, COMMON_LENGTH, 16);
        int notify = addVirtioCap(CFG_NOTIFY, NOTIFY, NOTIFY_MULTIPLIER * queueRegs.length, 20);
        setConfig32(notify + 16, NOTIFY_MULTIPLIER);
        addVirtioCap(CFG_ISR, ISR, 1, 16);
        if (device.configSize() > 0) addVirtioCap(CFG_DEVICE, DEVICE_CONFIG, device.configSize(), 16);
        // VIRTIO_PCI_CAP_PCI_CFG: a window into the BARs through config space (bar, offset, length, data).
        pciCfgCap = addVirtioCap(CFG_PCI, 0, 0, 20);
        setWritable(pciCfgCap + 4, 1, 0xff);
        setWritable(pciCfgCap + 8, 8, -1L);
        this.msix = new MsixTable(queueRegs.length + 1, contained(machine.msi()));
        addMsix(msix, 0, MSIX_TABLE, MSIX_PBA);
    }

    /**
     * Delivery that cannot fail the caller: KVM refuses a message no vCPU matches (EPERM), and the message is the
     * guest's own (the MSI-X table). A worker thread signalling a completion, or a vCPU unmasking a vector, must
     * not die of it; the interrupt is lost, as on hardware, counted and logged.
     */
    private MsiSink contained(MsiSink sink) {
        return (address, data) -> {
            try {
                sink.signal(address, data);
            } catch (RuntimeException e) {
                errors.fault(String.format("MSI-X message 0x%x to 0x%x was not delivered (the guest's table names no vCPU?)", data, address), e);
            }
        };
    }

    /** Guest mistakes and contained faults this device has logged (rate-limited) so far. */
    long errorCount() { return errors.count(); }

    private int addVirtioCap(int cfgType, int offset, int length, int capLength) {
        int cap = addCapability(CAP_VENDOR, capLength);
        setConfig8(cap + 2, capLength);
        setConfig8(cap + 3, cfgType);
        setConfig8(cap + 4, 0); // BAR0
        setConfig32(cap + 8, offset);
        setConfig32(cap + 12, length);
        return cap;
    }

    public VirtioDevice device() { return device; }

    /** The device status register, for tests and tracing. */
    public synchronized int status() { return status; }

    // ---- configuration space: the PCI-configuration access window ----

    @Override
    public int configRead(int offset, int size) {
        if (offset >= pciCfgCap + 16 && offset < pciCfgCap + 20) {
            synchronized (this) {
                WindowAccess w = window();
                if (w == null) return 0;
                long v = new Bar0().read(w.offset, w.length);
                return (int) (v >>> (8 * (offset - pciCfgCap - 16)));
            }
        }
        return super.configRead(offset, size);
    }

    @Override
    protected void configWritten(int offset, int size, int value) {
        if (offset >= pciCfgCap + 16 && offset < pciCfgCap + 20) {
            synchronized (this) {
                WindowAccess w = window();
                if (w != null) new Bar0().write(w.offset, w.length, Integer.toUnsignedLong(value) >>> (8 * (offset - pciCfgCap - 16)));
            }
        }
    }

    private record WindowAccess(int offset, int length) {}

    /** The access the driver set up in the PCI_CFG capability, if it is a valid one into BAR0. */
    private WindowAccess window() {
        int bar = config8(pciCfgCap + 4);
        int length = config32(pciCfgCap + 12);
        int offset = config32(pciCfgCap + 8);
        if (bar != 0 || (length != 1 && length != 2 && length != 4) || offset < 0 || offset % length != 0 || (long) offset + length > BAR_SIZE) return null;
        return new WindowAccess(offset, length);
    }

    @Override
    protected synchronized void barMapped(int index, long address) {
        if (index != 0) return;
        bar0 = address;
        if (active != null) active.rebindDoorbells(address);
    }

    // ---- BAR0 ----

    private final class Bar0 implements BusDevice {
        @Override
        public long read(long offset, int size) {
            if (offset >= MSIX_TABLE && offset < MSIX_PBA) return msix.readTable(offset - MSIX_TABLE, size);
            if (offset >= MSIX_PBA) return msix.readPba(offset - MSIX_PBA, size);
            synchronized (VirtioPciTransport.this) {
                if (offset < ISR) return readCommon((int) offset, size);
                if (offset < DEVICE_CONFIG) return offset == ISR ? takeIsr() : 0;
                if (offset < NOTIFY) {
                    int at = (int) (offset - DEVICE_CONFIG);
                    return inDeviceConfig(at, size) ? device.configRead(at, size) : 0;
                }
                return 0;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            if (offset >= MSIX_TABLE && offset < MSIX_PBA) {
                msix.writeTable(offset - MSIX_TABLE, size, value);
                return;
            }
            if (offset >= MSIX_PBA) return;
            if (offset >= NOTIFY) {
                notifyQueue((int) ((offset - NOTIFY) / NOTIFY_MULTIPLIER));
                return;
            }
            synchronized (VirtioPciTransport.this) {
                if (offset < ISR) writeCommon((int) offset, size, value);
                else if (offset >= DEVICE_CONFIG) {
                    int at = (int) (offset - DEVICE_CONFIG);
                    if (inDeviceConfig(at, size)) device.configWrite(at, size, value);
                }
            }
        }
    }

    /**
     * Whether {@code [at, at+size)} lies in the device's configuration: devices index their arrays with it
     * unchecked. Beyond it (an access straddling the end, say) the driver reads 0 and writes nothing.
     */
    private boolean inDeviceConfig(int at, int size) {
        return size >= 1 && size <= 8 && at >= 0 && at + size <= device.configSize();
    }

    /** A notify write that exited (no doorbell binding): ring the queue's doorbell ourselves. */
    private void notifyQueue(int queue) {
        Active a;
        synchronized (this) {
            a = active;
        }
        if (a != null && queue >= 0 && queue < queueRegs.length) a.ring(queue);
    }

    // ---- common configuration ----

    private long readCommon(int offset, int size) {
        QueueRegisters q = queueSelect < queueRegs.length ? queueRegs[queueSelect] : null;
        return switch (offset) {
            case 0x00 -> deviceFeatureSelect;
            case 0x04 -> featureWord(offeredFeatures, deviceFeatureSelect);
            case 0x08 -> driverFeatureSelect;
            case 0x0c -> featureWord(driverFeatures, driverFeatureSelect);
            case 0x10 -> configMsixVector;
            case 0x12 -> queueRegs.length;
            case 0x14 -> resetPending() ? statusDuringReset : status | (failed ? VirtioStatus.DEVICE_NEEDS_RESET : 0);
            case 0x15 -> configGeneration.get() & 0xff;
            case 0x16 -> queueSelect;
            case 0x18 -> q == null ? 0 : q.size;
            case 0x1a -> q == null ? NO_VECTOR : q.msixVector;
            case 0x1c -> q != null && q.enabled ? 1 : 0;
            case 0x1e -> q == null ? 0 : queueSelect;
            case 0x20, 0x24 -> q == null ? 0 : half(q.desc, offset - 0x20, size);
            case 0x28, 0x2c -> q == null ? 0 : half(q.driver, offset - 0x28, size);
            case 0x30, 0x34 -> q == null ? 0 : half(q.device, offset - 0x30, size);
            default -> 0;
        };
    }

    /**
     * Word {@code select} of a 64-bit feature set. The select register is 32 bits the guest chose: compared
     * unsigned, so 0xffffffff is no word at all (a signed compare took it as -1, and a shift by -32 is a shift by
     * 32 in Java: the high word).
     */
    private static long featureWord(long features, int select) {
        return Integer.compareUnsigned(select, 2) < 0 ? (features >>> (32 * select)) & 0xffffffffL : 0;
    }

    /** A queue address as the driver reads it: all 64 bits at the low word's offset, else one 32-bit half. */
    private static long half(long value, int at, int size) {
        return size == 8 && at == 0 ? value : (value >>> (8 * at)) & 0xffffffffL;
    }

    private static long setHalf(long old, int at, int size, long value) {
        if (size == 8 && at == 0) return value;
        long mask = 0xffffffffL << (8 * at);
        return (old & ~mask) | ((value & 0xffffffffL) << (8 * at));
    }

    private void writeCommon(int offset, int size, long value) {
        QueueRegisters q = queueSelect < queueRegs.length ? queueRegs[queueSelect] : null;
        boolean running = (status & VirtioStatus.DRIVER_OK) != 0;
        boolean featuresLocked = (status & VirtioStatus.FEATURES_OK) != 0;
        switch (offset) {
            case 0x00 -> deviceFeatureSelect = (int) value;
            case 0x08 -> driverFeatureSelect = (int) value;
            case 0x0c -> {
                if (!featuresLocked && Integer.compareUnsigned(driverFeatureSelect, 2) < 0) {
                    int shift = 32 * driverFeatureSelect;
                    driverFeatures = (driverFeatures & ~(0xffffffffL << shift)) | ((value & 0xffffffffL) << shift);
                }
            }
            case 0x10 -> configMsixVector = vector(value);
            case 0x14 -> writeStatus((int) value & 0xff);
            case 0x16 -> queueSelect = (int) value & 0xffff;
            case 0x18 -> {
                if (q != null && !q.enabled) q.size = (int) value & 0xffff;
            }
            case 0x1a -> {
                if (q != null) q.msixVector = vector(value);
            }
            case 0x1c -> {
                if (q != null && (value & 1) == 1 && !running) q.enabled = true;
            }
            case 0x20, 0x24 -> { if (q != null && !q.enabled) q.desc = setHalf(q.desc, offset - 0x20, size, value); }
            case 0x28, 0x2c -> { if (q != null && !q.enabled) q.driver = setHalf(q.driver, offset - 0x28, size, value); }
            case 0x30, 0x34 -> { if (q != null && !q.enabled) q.device = setHalf(q.device, offset - 0x30, size, value); }
            default -> { }
        }
    }

    /** A vector the MSI-X table has, or NO_VECTOR (which the driver reads back to learn the mapping failed). */
    private int vector(long value) {
        int v = (int) value & 0xffff;
        return v < msix.vectors() ? v : NO_VECTOR;
    }

    private void writeStatus(int value) {
        if (resetPending()) return;
        if (value == 0) {
            reset();
            return;
        }
        // DEVICE_NEEDS_RESET is the device's to set; status bits once set stay set until a reset (the driver may
        // not clear them, and a write that tries only adds what it has).
        value &= ~VirtioStatus.DEVICE_NEEDS_RESET;
        int added = value & ~status;
        int next = status | value;
        if ((added & VirtioStatus.FEATURES_OK) != 0 && !featuresAcceptable()) {
            next &= ~VirtioStatus.FEATURES_OK;
        }
        status = next;
        if ((added & VirtioStatus.DRIVER_OK) != 0 && (status & VirtioStatus.FEATURES_OK) != 0
                && (status & VirtioStatus.DEVICE_NEEDS_RESET) == 0 && !failed && active == null) {
            activate();
        }
    }

    private boolean featuresAcceptable() {
        long unknown = driverFeatures & ~offeredFeatures;
        if (unknown != 0) {
            errors.report("driver asked for features it was not offered: 0x%x", unknown);
            return false;
        }
        // Modern transport only: a legacy driver (no VERSION_1) cannot work with this layout.
        return (driverFeatures & 1L << VirtioStatus.F_VERSION_1) != 0;
    }

    private void activate() {
        SplitQueue[] queues = new SplitQueue[queueRegs.length];
        for (int i = 0; i < queueRegs.length; i++) {
            QueueRegisters q = queueRegs[i];
            if (!q.enabled) continue;
            try {
                if (q.size > device.maxQueueSize()) throw new VirtqueueException("queue size " + q.size + " exceeds " + device.maxQueueSize());
                queues[i] = new SplitQueue(memory, q.layout(),
                        (driverFeatures & 1L << VirtioStatus.F_EVENT_IDX) != 0,
                        (driverFeatures & 1L << VirtioStatus.F_INDIRECT_DESC) != 0,
                        new QueueTrace(machine.tracer(), name(), i));
            } catch (VirtqueueException e) {
                needsReset("queue " + i + ": " + e.getMessage());
                return;
            }
        }
        active = new Active(queues);
        active.rebindDoorbells(bar0);
        device.activate(active);
    }

    private void needsReset(String reason) {
        errors.report("device needs reset: %s", reason);
        failed = true;
        signalConfigChange();
    }

    /** Whether a reset is still waiting for a worker stuck in its backend; forgets it once none is left. */
    private boolean resetPending() {
        if (resetting != null && resetting.workersStopped()) resetting = null;
        return resetting != null;
    }

    /**
     * Device reset: stops the device (its reset waits a bounded time for requests in flight), forgets the
     * driver's setup. A worker still inside its backend keeps the reset pending ({@link #resetting}).
     */
    private void reset() {
        if (active != null) {
            Active a = active;
            active = null;
            a.unbind(); // before the doorbells close: KVM finds an ioeventfd to remove by its eventfd
            a.closeDoorbells();
            device.reset();
            if (!a.workersStopped()) {
                resetting = a;
                statusDuringReset = status != 0 ? status : VirtioStatus.ACKNOWLEDGE;
                errors.report("reset pending until a request stuck in the backend returns (device_status reads 0x%x until then)",
                        statusDuringReset);
            }
        }
        status = 0;
        failed = false;
        driverFeatures = 0;
        deviceFeatureSelect = driverFeatureSelect = 0;
        queueSelect = 0;
        configMsixVector = NO_VECTOR;
        for (int i = 0; i < queueRegs.length; i++) queueRegs[i] = new QueueRegisters(device.maxQueueSize());
        takeIsr();
    }

    // ---- interrupts (no transport lock: see irqLock) ----

    /** Reading the ISR status acknowledges it and lowers INTx. */
    private int takeIsr() {
        synchronized (irqLock) {
            int v = isr;
            isr = 0;
            intx.set(false);
            return v;
        }
    }

    private void signalQueue(int queue) {
        if (msix.enabled()) {
            int v = queueRegs[queue].msixVector;
            if (v != NO_VECTOR) msix.signal(v);
            return;
        }
        raiseIsr(1);
    }

    private void signalConfigChange() {
        if (msix.enabled()) {
            int v = configMsixVector;
            if (v != NO_VECTOR) msix.signal(v);
            return;
        }
        raiseIsr(2);
    }

    private void raiseIsr(int bits) {
        synchronized (irqLock) {
            isr |= bits;
            if (!intxDisabled()) intx.set(true);
        }
    }

    @Override
    public String toString() {
        return name() + " (virtio type " + device.deviceType() + ")";
    }

    /** Closes the device: finishes requests in flight, then releases its backend. */
    @Override
    public void close() {
        synchronized (this) {
            reset();
        }
        device.close();
    }

    // ---- the running device's view ----

    private final class Active implements VirtioQueues {
        private final SplitQueue[] queues;
        private final Doorbell[] doorbells;
        private final List<AutoCloseable> bindings = new ArrayList<>();
        private final long features = driverFeatures;
        /** The device's worker threads that may still touch guest memory and the queues. */
        private final AtomicInteger workers = new AtomicInteger();

        Active(SplitQueue[] queues) {
            this.queues = queues;
            this.doorbells = new Doorbell[queues.length];
            for (int i = 0; i < queues.length; i++) doorbells[i] = machine.newDoorbell();
        }

        void ring(int queue) {
            if (queues[queue] != null) doorbells[queue].ring();
        }

        /** Binds each enabled queue's notify address in BAR0 (at {@code base}) to its doorbell. */
        void rebindDoorbells(long base) {
            unbind();
            if (base < 0) return;
            for (int i = 0; i < queues.length; i++) {
                if (queues[i] == null) continue;
                Optional<AutoCloseable> b = machine.bindDoorbell(doorbells[i], base + NOTIFY + (long) NOTIFY_MULTIPLIER * i, 2);
                b.ifPresent(bindings::add);
            }
        }

        void unbind() {
            for (AutoCloseable b : bindings) {
                try {
                    b.close();
                } catch (Exception e) {
                    errors.fault("releasing a doorbell binding failed", e);
                }
            }
            bindings.clear();
        }

        void closeDoorbells() {
            for (Doorbell d : doorbells) d.close();
        }

        @Override public GuestMemory memory() { return memory; }

        @Override public long features() { return features; }

        @Override public int count() { return queues.length; }

        @Override public SplitQueue queue(int index) { return queues[index]; }

        @Override public Doorbell doorbell(int index) { return doorbells[index]; }

        @Override public void interrupt(int index) { signalQueue(index); }

        @Override public void workerStarted() { workers.incrementAndGet(); }

        @Override public void workerStopped() { workers.decrementAndGet(); }

        boolean workersStopped() { return workers.get() == 0; }

        @Override
        public void configChanged() {
            if (active != this) return;
            configGeneration.incrementAndGet();
            signalConfigChange();
        }

        @Override
        public void fail(String reason) {
            if (active == this && !failed) needsReset(reason);
        }
    }
}
