package org.jhyve.devices.virtio;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.bus.BusDevice;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.hv.Doorbell;
import org.jhyve.irq.IrqLine;
import org.jhyve.memory.GuestMemory;
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
 * <p>It is made of named parts, as kvmtool splits {@code virtio/pci.c} from {@code virtio/pci-modern.c}:
 * {@link VirtioPciLayout} (where BAR0's structures are and the capabilities that say so), {@link CommonConfig}
 * (the common configuration's registers and the device_status rules), {@link VirtioInterrupts} (MSI-X or ISR and
 * INTx). This class is the PCI function that holds them: it routes BAR0 accesses, starts the device at DRIVER_OK
 * and stops it at a reset, and binds queue notifications to doorbells (KVM ioeventfds) while the device runs, so
 * a kick costs the vCPU no exit to the VMM; the worker threads of the device wait on them.
 *
 * <p>A queue the driver set up wrong, or broke later, sets DEVICE_NEEDS_RESET. What the guest gets wrong, and
 * interrupts that could not be delivered, are logged rate-limited per device ({@link GuestErrorLog}).
 *
 * <p>Threading rules. vCPU threads access BAR0 concurrently. The register state (the common configuration, the
 * device configuration, activation and reset) is guarded by this object's monitor, the register lock; MSI-X table
 * accesses do without it, and a notify write takes it only to find the current activation. The device's worker
 * threads never take it, since a reset holds it while it waits (bounded) for them: they reach the transport
 * through {@link VirtioQueues}, whose methods read volatile state and signal through {@link VirtioInterrupts}.
 * Configuration-space accesses arrive with PciBus's monitor held (see {@link org.jhyve.pci.PciDevice}) and take
 * the register lock for the PCI_CFG window.
 */
public final class VirtioPciTransport extends PciFunction implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VirtioPciTransport.class);

    public static final int VENDOR_VIRTIO = 0x1af4, NO_VECTOR = CommonConfig.NO_VECTOR;
    private static final long TRANSPORT_FEATURES =
            1L << VirtioStatus.F_VERSION_1 | 1L << VirtioStatus.F_INDIRECT_DESC | 1L << VirtioStatus.F_EVENT_IDX;

    private final VirtioDevice device;
    private final GuestErrorLog errors;
    private final GuestMemory memory;
    private final MachineContext machine;
    private final VirtioInterrupts interrupts;
    /** Guarded by this, but for what {@link CommonConfig} says worker threads may call. */
    private final CommonConfig common;
    private final int pciCfgCap;

    // Guarded by this; read by worker threads (volatile) to tell whether they serve the current activation.
    private volatile Active active;
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
        int queues = device.queueCount();
        int vectors = queues + 1; // one per queue and one for configuration changes
        this.common = new CommonConfig(device.deviceFeatures() | TRANSPORT_FEATURES, queues, device.maxQueueSize(), vectors, errors);
        this.interrupts = new VirtioInterrupts(vectors, machine.msi(), intx, this::intxDisabled, errors);
        setConfig16(SUBSYSTEM_VENDOR_ID, VENDOR_VIRTIO);
        setConfig16(SUBSYSTEM_ID, 0x40 + device.deviceType());
        setConfig8(INTERRUPT_PIN, 1);
        setConfig8(INTERRUPT_LINE, intxGsi);
        addBar(new PciBar(VirtioPciLayout.BAR, PciBar.Kind.MEMORY32, VirtioPciLayout.BAR_SIZE, false, new Bar0()));
        int pciCfg = -1;
        for (VirtioPciLayout.Capability c : VirtioPciLayout.capabilities(queues, device.configSize())) {
            int cap = addVirtioCap(c);
            if (c.type() == VirtioPciLayout.CFG_NOTIFY) setConfig32(cap + VirtioPciLayout.NOTIFY_OFF_MULTIPLIER, VirtioPciLayout.NOTIFY_MULTIPLIER);
            if (c.type() == VirtioPciLayout.CFG_PCI) pciCfg = cap;
        }
        // The window's bar, offset and length are the driver's to write; its data reads and writes BAR0 there.
        pciCfgCap = pciCfg;
        setWritable(pciCfgCap + VirtioPciLayout.CAP_BAR, 1, 0xff);
        setWritable(pciCfgCap + VirtioPciLayout.CAP_OFFSET, 8, -1L);
        addMsix(interrupts.msix(), VirtioPciLayout.BAR, VirtioPciLayout.MSIX_TABLE, VirtioPciLayout.MSIX_PBA);
    }

    /** Guest mistakes and contained faults this device has logged (rate-limited) so far. */
    long errorCount() { return errors.count(); }

    private int addVirtioCap(VirtioPciLayout.Capability c) {
        int cap = addCapability(VirtioPciLayout.CAP_VENDOR, c.size());
        setConfig8(cap + VirtioPciLayout.CAP_LEN, c.size());
        setConfig8(cap + VirtioPciLayout.CFG_TYPE, c.type());
        setConfig8(cap + VirtioPciLayout.CAP_BAR, VirtioPciLayout.BAR);
        setConfig32(cap + VirtioPciLayout.CAP_OFFSET, c.offset());
        setConfig32(cap + VirtioPciLayout.CAP_LENGTH, c.length());
        return cap;
    }

    public VirtioDevice device() { return device; }

    /** The device status register, for tests and tracing. */
    public synchronized int status() { return common.status(); }

    // ---- configuration space: the PCI-configuration access window ----

    private boolean inWindowData(int offset) {
        int data = pciCfgCap + VirtioPciLayout.PCI_CFG_DATA;
        return offset >= data && offset < data + 4;
    }

    @Override
    public int configRead(int offset, int size) {
        if (inWindowData(offset)) {
            synchronized (this) {
                VirtioPciLayout.WindowAccess w = window();
                if (w == null) return 0;
                long v = new Bar0().read(w.offset(), w.length());
                return (int) (v >>> (8 * (offset - pciCfgCap - VirtioPciLayout.PCI_CFG_DATA)));
            }
        }
        return super.configRead(offset, size);
    }

    @Override
    protected void configWritten(int offset, int size, int value) {
        if (inWindowData(offset)) {
            synchronized (this) {
                VirtioPciLayout.WindowAccess w = window();
                if (w != null) {
                    new Bar0().write(w.offset(), w.length(),
                            Integer.toUnsignedLong(value) >>> (8 * (offset - pciCfgCap - VirtioPciLayout.PCI_CFG_DATA)));
                }
            }
        }
    }

    /** The access the driver set up in the PCI_CFG capability, if it is a valid one into BAR0. */
    private VirtioPciLayout.WindowAccess window() {
        return VirtioPciLayout.window(config8(pciCfgCap + VirtioPciLayout.CAP_BAR),
                config32(pciCfgCap + VirtioPciLayout.CAP_OFFSET), config32(pciCfgCap + VirtioPciLayout.CAP_LENGTH));
    }

    @Override
    protected synchronized void barMapped(int index, long address) {
        if (index != VirtioPciLayout.BAR) return;
        bar0 = address;
        if (active != null) active.rebindDoorbells(address);
    }

    // ---- BAR0 ----

    private final class Bar0 implements BusDevice {
        @Override
        public long read(long offset, int size) {
            if (offset >= VirtioPciLayout.MSIX_TABLE && offset < VirtioPciLayout.MSIX_PBA) {
                return interrupts.msix().readTable(offset - VirtioPciLayout.MSIX_TABLE, size);
            }
            if (offset >= VirtioPciLayout.MSIX_PBA) return interrupts.msix().readPba(offset - VirtioPciLayout.MSIX_PBA, size);
            synchronized (VirtioPciTransport.this) {
                if (offset < VirtioPciLayout.ISR) return common.read((int) offset - VirtioPciLayout.COMMON, size);
                if (offset < VirtioPciLayout.DEVICE_CONFIG) return offset == VirtioPciLayout.ISR ? interrupts.takeIsr() : 0;
                if (offset < VirtioPciLayout.NOTIFY) {
                    int at = (int) (offset - VirtioPciLayout.DEVICE_CONFIG);
                    return inDeviceConfig(at, size) ? device.configRead(at, size) : 0;
                }
                return 0;
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            if (offset >= VirtioPciLayout.MSIX_TABLE && offset < VirtioPciLayout.MSIX_PBA) {
                interrupts.msix().writeTable(offset - VirtioPciLayout.MSIX_TABLE, size, value);
                return;
            }
            if (offset >= VirtioPciLayout.MSIX_PBA) return;
            if (offset >= VirtioPciLayout.NOTIFY) {
                notifyQueue((int) ((offset - VirtioPciLayout.NOTIFY) / VirtioPciLayout.NOTIFY_MULTIPLIER));
                return;
            }
            synchronized (VirtioPciTransport.this) {
                if (offset < VirtioPciLayout.ISR) writeCommon((int) offset - VirtioPciLayout.COMMON, size, value);
                else if (offset >= VirtioPciLayout.DEVICE_CONFIG) {
                    int at = (int) (offset - VirtioPciLayout.DEVICE_CONFIG);
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
        if (a != null && queue >= 0 && queue < common.queueCount()) a.ring(queue);
    }

    // ---- the status machine's effects ----

    private void writeCommon(int offset, int size, long value) {
        assert Thread.holdsLock(this);
        switch (common.write(offset, size, value)) {
            case RESET -> reset();
            case ACTIVATE -> {
                if (active == null) activate();
            }
            case NONE -> { }
        }
    }

    private void activate() {
        assert Thread.holdsLock(this);
        SplitQueue[] queues = new SplitQueue[common.queueCount()];
        long features = common.driverFeatures();
        for (int i = 0; i < queues.length; i++) {
            QueueRegisters q = common.queue(i);
            if (!q.enabled) continue;
            try {
                if (q.size > device.maxQueueSize()) throw new VirtqueueException("queue size " + q.size + " exceeds " + device.maxQueueSize());
                queues[i] = new SplitQueue(memory, q.layout(),
                        (features & 1L << VirtioStatus.F_EVENT_IDX) != 0,
                        (features & 1L << VirtioStatus.F_INDIRECT_DESC) != 0,
                        new QueueTrace(machine.tracer(), name(), i));
            } catch (VirtqueueException e) {
                needsReset("queue " + i + ": " + e.getMessage());
                return;
            }
        }
        active = new Active(queues, features);
        active.rebindDoorbells(bar0);
        device.activate(active);
    }

    /** DEVICE_NEEDS_RESET, told to the driver by a configuration interrupt. Any thread. */
    private void needsReset(String reason) {
        errors.report("device needs reset: %s", reason);
        common.markNeedsReset();
        interrupts.configChange(common.configVector());
    }

    /**
     * Device reset: stops the device (its reset waits a bounded time for requests in flight), forgets the
     * driver's setup. A worker still inside its backend keeps the reset pending ({@link CommonConfig#holdResetUntil}).
     * Called with the register lock held, which no worker takes: waiting for them here cannot deadlock.
     */
    private void reset() {
        assert Thread.holdsLock(this);
        if (active != null) {
            Active a = active;
            active = null;
            a.unbind(); // before the doorbells close: KVM finds an ioeventfd to remove by its eventfd
            a.closeDoorbells();
            device.reset();
            if (!a.workersStopped()) {
                int shown = common.holdResetUntil(a::workersStopped);
                errors.report("reset pending until a request stuck in the backend returns (device_status reads 0x%x until then)", shown);
            }
        }
        common.reset();
        interrupts.takeIsr();
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
        private final long features;
        /** The device's worker threads that may still touch guest memory and the queues. */
        private final AtomicInteger workers = new AtomicInteger();

        Active(SplitQueue[] queues, long features) {
            this.queues = queues;
            this.features = features;
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
                Optional<AutoCloseable> b = machine.bindDoorbell(doorbells[i], base + VirtioPciLayout.NOTIFY + (long) VirtioPciLayout.NOTIFY_MULTIPLIER * i, 2);
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

        @Override public void interrupt(int index) { interrupts.queue(common.queueVector(index)); }

        @Override public void workerStarted() { workers.incrementAndGet(); }

        @Override public void workerStopped() { workers.decrementAndGet(); }

        boolean workersStopped() { return workers.get() == 0; }

        @Override
        public void configChanged() {
            if (active != this) return;
            common.configChanged();
            interrupts.configChange(common.configVector());
        }

        @Override
        public void fail(String reason) {
            if (active == this && !common.needsReset()) needsReset(reason);
        }
    }
}
