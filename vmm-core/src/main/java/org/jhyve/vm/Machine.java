package org.jhyve.vm;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jhyve.boot.BootState;
import org.jhyve.bus.Bus;
import org.jhyve.hv.Doorbell;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.HypervisorVm;
import org.jhyve.hv.InterruptPlatform;
import org.jhyve.irqchip.PlatformEvents;
import org.jhyve.irqchip.UserspacePlatform;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmSpec;
import org.jhyve.irq.IrqLine;
import org.jhyve.irq.MsiSink;
import org.jhyve.irq.TracedInterrupts;
import org.jhyve.memory.GuestMemory;
import org.jhyve.pci.PciBus;
import org.jhyve.pci.PciConfigPorts;
import org.jhyve.trace.TraceConfig;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machine devices are plugged into, as {@link MachineContext}: guest RAM, the port-IO, MMIO and PCI buses,
 * interrupts, doorbells and the trace; and what the VM is made of besides: its vCPUs, the boot state, the
 * resources closed with it, and how it ended. {@link VirtualMachine} runs it; embedders never see it.
 *
 * <p>Threads: built on one thread; then devices call it from vCPU and worker threads at once. The buses and
 * PCI keep their own locks; {@link #requestExit} decides the outcome once, on whichever thread asks first;
 * {@link #closeOnExit} may be called from any thread; {@link #close()} runs once every vCPU thread has ended.
 */
final class Machine implements MachineContext {
    /** Under the VM's name: these are the lines a user reads about the VM as a whole. */
    private static final Logger log = LoggerFactory.getLogger(VirtualMachine.class);

    private final HypervisorVm hvVm;
    private final Tracer tracer;
    private final int vcpuCount;
    private final Optional<UUID> uuid;
    private final Bus ioPorts;
    private final Bus mmio;
    private final PciBus pci;
    /** Guarded by itself. */
    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
    private final AtomicReference<VmOutcome> outcome = new AtomicReference<>();
    private final List<Consumer<VmOutcome>> whenEnded = new CopyOnWriteArrayList<>();
    private volatile PowerButton powerButton;
    /** Filled by {@link #build}, before any vCPU thread exists; then read (kicked) from any thread. */
    private final List<Vcpu> vcpus = new CopyOnWriteArrayList<>();
    private BootState bootState;
    /** Null unless the plan asks for it. */
    private MmioCrossCheck mmioCrossCheck;
    /** jhyve's own interrupt platform, or null when the hypervisor has one ({@link InterruptPlatform#IN_KERNEL}). */
    private UserspacePlatform platform;

    private Machine(HypervisorVm hvVm, Tracer tracer, int vcpuCount, Optional<UUID> uuid) {
        this.hvVm = hvVm;
        this.tracer = tracer;
        this.vcpuCount = vcpuCount;
        this.uuid = uuid;
        this.ioPorts = new Bus("port-io", TraceKind.PIO, tracer);
        this.mmio = new Bus("mmio", TraceKind.MMIO, tracer);
        this.pci = new PciBus(ioPorts, mmio, tracer);
    }

    /**
     * Creates guest RAM, the buses, {@code plan}'s devices (PCI first, then platform), the image in memory and
     * the vCPUs. On failure everything created so far is released and the exception propagates.
     */
    static Machine build(Hypervisor hypervisor, VmPlan plan) {
        Tracer tracer = plan.trace().map(Machine::openTrace).orElse(Tracer.off());
        HypervisorVm hvVm;
        try {
            hvVm = hypervisor.createVm(new VmSpec(plan.memoryBytes(), plan.vcpus(), plan.cpuid(), plan.topology(), plan.wiredMemory(),
                    plan.interrupts()));
        } catch (RuntimeException e) {
            tracer.close();
            throw e;
        }
        Machine machine = new Machine(hvVm, tracer, plan.vcpus(), plan.uuid());
        try {
            machine.install(plan);
            return machine;
        } catch (RuntimeException e) {
            machine.close();
            throw e;
        }
    }

    private void install(VmPlan plan) {
        if (plan.mmioCrossCheck()) {
            MmioCrossCheck check = new MmioCrossCheck();
            mmioCrossCheck = check;
            whenEnded(outcome -> check.logSummary());
        }
        if (plan.interrupts() == InterruptPlatform.USERSPACE) {
            // First: devices take their interrupt lines while they are made, and the platform owns the ports they may not.
            platform = new UserspacePlatform(ioPorts, mmio, new PlatformEvents(tracer));
            closeOnExit(platform);
        }
        ioPorts.register(PciConfigPorts.BASE, PciConfigPorts.LENGTH, "pci-config",
                new PciConfigPorts(pci, () -> requestExit(ExitStatus.RESET, "reset through port 0xcf9")));
        for (VmBuilder.PciSlot slot : plan.pciSlots()) {
            var device = slot.factory().create(this, slot.address(), slot.options());
            pci.add(slot.address(), device);
            if (device instanceof AutoCloseable c) closeOnExit(c);
        }
        for (PlatformDevice device : plan.platformDevices()) device.install(this);
        bootState = plan.boot().load(memory(), vcpuCount);
        for (int i = 0; i < vcpuCount; i++) {
            Vcpu vcpu = hvVm.createVcpu(i);
            vcpus.add(platform == null ? vcpu : platform.attach(vcpu));
        }
    }

    private static Tracer openTrace(TraceConfig config) {
        try {
            return Tracer.open(config);
        } catch (java.io.UncheckedIOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    List<Vcpu> vcpus() { return List.copyOf(vcpus); }

    /** How the boot vCPU starts: what the boot loader returned. */
    BootState bootState() { return bootState; }

    /** How the VM ended, or null while it runs. */
    VmOutcome outcome() { return outcome.get(); }

    /**
     * Runs {@code action} with the outcome once it is decided, on the deciding thread before the vCPUs are
     * kicked; at once if it is decided already (a device may end the VM while it is built). The action may
     * run twice when the two race: make it idempotent.
     */
    void whenEnded(Consumer<VmOutcome> action) {
        whenEnded.add(action);
        VmOutcome decided = outcome.get();
        if (decided != null) action.accept(decided);
    }

    PowerButton powerButton() { return powerButton; }

    /** The MMIO cross-check every vCPU loop feeds, or null. */
    MmioCrossCheck mmioCrossCheck() { return mmioCrossCheck; }

    // ---- MachineContext, for devices ----

    @Override public GuestMemory memory() { return hvVm.memory(); }

    @Override public Bus ioPorts() { return ioPorts; }

    @Override public Bus mmio() { return mmio; }

    @Override public PciBus pci() { return pci; }

    @Override public int vcpuCount() { return vcpuCount; }

    @Override public Optional<UUID> uuid() { return uuid; }

    @Override
    public IrqLine irq(int gsi) {
        if (gsi < 0 || gsi > 23) throw new IllegalArgumentException("IOAPIC has pins 0-23: " + gsi);
        UserspacePlatform p = platform;
        return TracedInterrupts.line(gsi, p != null ? level -> p.setIrqLine(gsi, level) : level -> hvVm.setIrqLine(gsi, level), tracer);
    }

    @Override
    public MsiSink msi() {
        UserspacePlatform p = platform;
        return TracedInterrupts.msi(p != null ? p::signalMsi : hvVm::signalMsi, tracer);
    }

    @Override public Tracer tracer() { return tracer; }

    @Override public Doorbell newDoorbell() { return hvVm.newDoorbell(); }

    @Override
    public Optional<AutoCloseable> bindDoorbell(Doorbell doorbell, long address, int length) {
        return hvVm.bindDoorbell(doorbell, address, length);
    }

    @Override
    public void installPowerButton(PowerButton button) {
        if (powerButton != null) throw new IllegalStateException("the machine already has a power button");
        powerButton = button;
    }

    @Override
    public void closeOnExit(AutoCloseable resource) {
        synchronized (closeables) {
            closeables.push(resource);
        }
    }

    /** Ends the VM; the first request wins, later ones are logged and ignored. */
    @Override
    public void requestExit(ExitStatus status, String reason) {
        decide(new VmOutcome(status, reason));
    }

    @Override
    public void requestExit(ExitStatus status, int exitCode, String reason) {
        decide(new VmOutcome(status, reason, exitCode));
    }

    private void decide(VmOutcome decided) {
        ExitStatus status = decided.status();
        String reason = decided.reason();
        if (!outcome.compareAndSet(null, decided)) {
            log.debug("exit request ignored ({} already decided): {} {}", outcome.get().status(), status, reason);
            return;
        }
        for (Consumer<VmOutcome> action : whenEnded) action.accept(decided);
        if (status == ExitStatus.ERROR) log.error("VM stopping: {}", reason);
        else log.info("VM stopping: {} ({})", status, reason);
        for (Vcpu v : vcpus) v.kick();
    }

    /**
     * A vCPU thread failed with {@code e}: the VM ends with {@link ExitStatus#ERROR} (status 4, jhyve's own
     * failure; never POWER_OFF, which says the guest chose to end), and the exception goes to the log with its
     * stack trace. Describing it may itself fail (a broken toString): the VM ends all the same.
     */
    void vcpuFailed(int index, Throwable e) {
        String what;
        try {
            what = e.toString();
        } catch (Throwable describing) {
            what = e.getClass().getName();
        }
        try {
            log.error("vCPU {} failed", index, e);
        } finally {
            requestExit(ExitStatus.ERROR, "vCPU " + index + " failed: " + what);
        }
    }

    /**
     * Releases what the machine holds, once no vCPU thread runs: the devices and resources, last registered
     * first (each waits a bounded time for its own workers), then the vCPUs, then the hypervisor VM (which unmaps
     * guest RAM unless a device thread still holds it), the trace last.
     */
    void close() {
        while (true) {
            AutoCloseable c;
            synchronized (closeables) {
                c = closeables.poll();
            }
            if (c == null) break;
            try {
                c.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", c, e.toString());
            }
        }
        for (Vcpu v : vcpus) v.close();
        hvVm.close();
        tracer.close(); // last: devices closing above may still trace
    }
}
