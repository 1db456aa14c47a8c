package org.jhyve.vm;

import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.boot.BootLoader;
import org.jhyve.boot.BootState;
import org.jhyve.bus.Bus;
import org.jhyve.hv.Doorbell;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.HypervisorVm;
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
import org.jhyve.vm.debug.GdbStub;
import org.jhyve.vm.debug.VcpuDebugHooks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A built VM: its buses, devices and vCPUs, and its lifecycle. {@link #start()} runs one platform thread
 * per vCPU; {@link #pause()}/{@link #resume()} park and release them; {@link #stop()} ends the VM;
 * {@link #await()} returns how it ended. {@link #close()} releases every thread, fd and mapping.
 * Build one with {@link VmBuilder}.
 */
public final class VirtualMachine implements AutoCloseable, MachineContext {
    private static final Logger log = LoggerFactory.getLogger(VirtualMachine.class);

    private enum State { CREATED, RUNNING, ENDED, CLOSED }

    private final HypervisorVm hvVm;
    private final Tracer tracer;
    private final Bus ioPorts;
    private final Bus mmio;
    private final PciBus pci;
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private HaltDetector haltDetector;
    private Thread haltDetectorThread;
    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
    private final int vcpuCount;
    private final Optional<UUID> uuid;
    private boolean exitOnUnhandledIo;
    private BootState bootState;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private State state = State.CREATED;
    private boolean pauseRequested;
    private int parked;
    private volatile VmOutcome outcome;
    private volatile PowerButton powerButton;
    /** Present with {@link VmBuilder#gdb}: the VM starts held until gdb lets it run. */
    private GdbStub gdb;

    private VirtualMachine(HypervisorVm hvVm, int vcpuCount, Optional<UUID> uuid, Tracer tracer) {
        this.hvVm = hvVm;
        this.vcpuCount = vcpuCount;
        this.uuid = uuid;
        this.tracer = tracer;
        this.ioPorts = new Bus("port-io", TraceKind.PIO, tracer);
        this.mmio = new Bus("mmio", TraceKind.MMIO, tracer);
        this.pci = new PciBus(ioPorts, mmio, tracer);
    }

    @Override
    public Optional<UUID> uuid() { return uuid; }

    static VirtualMachine create(Hypervisor hypervisor, VmSpec spec, BootLoader boot,
                                 List<VmBuilder.PciSlot> pciSlots, List<PlatformDevice> platformDevices,
                                 boolean exitOnUnhandledIo, Optional<UUID> uuid, Optional<TraceConfig> trace,
                                 Optional<SocketAddress> gdbAddress) {
        long memoryBytes = spec.memoryBytes();
        int vcpuCount = spec.vcpus();
        Tracer tracer = trace.map(VirtualMachine::openTrace).orElse(Tracer.off());
        HypervisorVm hvVm;
        try {
            hvVm = hypervisor.createVm(spec);
        } catch (RuntimeException e) {
            tracer.close();
            throw e;
        }
        VirtualMachine vm = new VirtualMachine(hvVm, vcpuCount, uuid, tracer);
        vm.exitOnUnhandledIo = exitOnUnhandledIo;
        try {
            vm.ioPorts.register(PciConfigPorts.BASE, PciConfigPorts.LENGTH, "pci-config",
                    new PciConfigPorts(vm.pci, () -> vm.requestExit(ExitStatus.RESET, "reset through port 0xcf9")));
            for (VmBuilder.PciSlot slot : pciSlots) {
                var device = slot.factory().create(vm, slot.address(), slot.options());
                vm.pci.add(slot.address(), device);
                if (device instanceof AutoCloseable c) vm.closeOnExit(c);
            }
            for (PlatformDevice device : platformDevices) device.install(vm);
            vm.bootState = boot.load(vm.memory(), vcpuCount);
            for (int i = 0; i < vcpuCount; i++) vm.vcpus.add(hvVm.createVcpu(i));
            if (gdbAddress.isPresent()) vm.listenForGdb(gdbAddress.get());
            log.info("VM built: {} MiB, {} vCPU(s), {}", memoryBytes >> 20, vcpuCount, vm.bootState.description());
            return vm;
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    /** Binds the stub's socket now, so a port in use fails the build with one line rather than a running VM. */
    private void listenForGdb(SocketAddress address) {
        try {
            gdb = GdbStub.listen(address, vcpus, memory(), () -> requestExit(ExitStatus.POWER_OFF, "killed by gdb"));
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        closeOnExit(gdb);
    }

    /**
     * Where the GDB stub listens, when the VM was built with {@link VmBuilder#gdb}: an {@link InetSocketAddress}
     * on loopback with the port bound, or a {@link java.net.UnixDomainSocketAddress}.
     */
    public Optional<SocketAddress> gdbAddress() {
        return Optional.ofNullable(gdb).map(GdbStub::address);
    }

    private static Tracer openTrace(TraceConfig config) {
        try {
            return Tracer.open(config);
        } catch (java.io.UncheckedIOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    // ---- MachineContext, for devices ----

    @Override public GuestMemory memory() { return hvVm.memory(); }

    @Override public Bus ioPorts() { return ioPorts; }

    @Override public Bus mmio() { return mmio; }

    @Override public PciBus pci() { return pci; }

    @Override public int vcpuCount() { return vcpuCount; }

    @Override
    public IrqLine irq(int gsi) {
        if (gsi < 0 || gsi > 23) throw new IllegalArgumentException("IOAPIC has pins 0-23: " + gsi);
        return TracedInterrupts.line(gsi, level -> hvVm.setIrqLine(gsi, level), tracer);
    }

    @Override public MsiSink msi() { return TracedInterrupts.msi(hvVm::signalMsi, tracer); }

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
        lock.lock();
        try {
            closeables.push(resource);
        } finally {
            lock.unlock();
        }
    }

    /** Ends the VM; the first request wins, later ones are logged and ignored. */
    @Override
    public void requestExit(ExitStatus status, String reason) {
        lock.lock();
        try {
            if (outcome != null) {
                log.debug("exit request ignored ({} already decided): {} {}", outcome.status(), status, reason);
                return;
            }
            outcome = new VmOutcome(status, reason);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (gdb != null) gdb.vmEnded(status.code());
        if (status == ExitStatus.ERROR) log.error("VM stopping: {}", reason);
        else log.info("VM stopping: {} ({})", status, reason);
        for (Vcpu v : vcpus) v.kick();
    }

    // ---- lifecycle ----

    /**
     * Starts every vCPU on its own platform thread. With a GDB stub ({@link VmBuilder#gdb}) they are held
     * before their first instruction until gdb continues them.
     */
    public void start() {
        lock.lock();
        try {
            if (state != State.CREATED) throw new IllegalStateException("VM already started");
            state = State.RUNNING;
            ExitHandler handler = new ExitHandler(ioPorts, mmio,
                    exitOnUnhandledIo ? what -> requestExit(ExitStatus.ERROR, what + " (-e: exit on unhandled I/O)") : null);
            haltDetector = new HaltDetector(this, List.copyOf(vcpus));
            for (Vcpu v : vcpus) {
                BootState initial = v.index() == 0 ? bootState : null;
                // The loop reports its own failures; the handler catches what escapes even that (its finally).
                Thread t = Thread.ofPlatform().name("jhyve-vcpu-" + v.index())
                        .uncaughtExceptionHandler((thread, e) -> vcpuFailed(v.index(), e))
                        .unstarted(new VcpuLoop(this, v, initial, handler, haltDetector, tracer,
                                gdb == null ? VcpuDebugHooks.NONE : gdb.hooks()));
                threads.add(t);
            }
            threads.forEach(Thread::start);
            if (gdb != null) gdb.serve();
            haltDetectorThread = Thread.ofPlatform().daemon().name("jhyve-halt-detector").start(haltDetector);
        } finally {
            lock.unlock();
        }
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

    /** Stops every vCPU between two instructions and returns once all are parked. */
    public void pause() {
        lock.lock();
        try {
            requireRunning();
            pauseRequested = true;
            for (Vcpu v : vcpus) v.kick();
            while (parked < liveThreads() && outcome == null) changed.awaitUninterruptibly();
        } finally {
            lock.unlock();
        }
    }

    public void resume() {
        lock.lock();
        try {
            requireRunning();
            pauseRequested = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean isPaused() {
        lock.lock();
        try {
            return pauseRequested && parked >= liveThreads();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Asks the guest to power off, as bhyve does on SIGTERM: presses the power button. Returns true if the
     * guest listens for it; otherwise (no button, or a guest without an ACPI driver) the VM is stopped at
     * once and this returns false.
     */
    public boolean requestPowerOff() {
        PowerButton button = powerButton;
        if (button != null && button.press()) return true;
        stop();
        return false;
    }

    /** Ends the VM from the host side, as pulling the plug: the outcome is POWER_OFF "stopped by the host". */
    public void stop() {
        requestExit(ExitStatus.POWER_OFF, "stopped by the host");
    }

    /** Waits until every vCPU thread has ended and returns how the VM ended. */
    public VmOutcome await() throws InterruptedException {
        for (Thread t : threads) t.join();
        return finish();
    }

    /** Like {@link #await()} with a limit; returns null if the VM is still running then. */
    public VmOutcome await(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !t.join(Duration.ofNanos(left))) return null;
        }
        return finish();
    }

    /** How the VM ended, or null while it runs. */
    public VmOutcome outcome() { return outcome; }

    /** Every vCPU thread has ended; one that ended without deciding the outcome (it cannot, but) is an error. */
    private VmOutcome finish() {
        if (outcome == null) requestExit(ExitStatus.ERROR, "every vCPU thread ended without the VM ending");
        lock.lock();
        try {
            if (state == State.RUNNING) state = State.ENDED;
            return outcome;
        } finally {
            lock.unlock();
        }
    }

    private void requireRunning() {
        if (state != State.RUNNING) throw new IllegalStateException("VM is not running");
    }

    private int liveThreads() {
        return (int) threads.stream().filter(Thread::isAlive).count();
    }

    /**
     * Called by a vCPU thread before each run: false once the VM is ending; parks while paused.
     */
    boolean awaitRunnable(Vcpu vcpu) {
        if (outcome != null) return false;
        if (!pauseRequested) return true;
        lock.lock();
        try {
            parked++;
            changed.signalAll();
            while (pauseRequested && outcome == null) changed.awaitUninterruptibly();
            parked--;
            return outcome == null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the VM if it runs, waits for its threads, and releases devices, vCPUs and guest RAM, in this order:
     * the vCPU threads end first (nothing runs guest code or an exit handler any more); then the devices close,
     * last registered first, each waiting a bounded time for its own worker threads (AHCI 10 s, virtio queues
     * 1 s) and leaving the backend of a worker still stuck in it open; then the vCPU fds; then the hypervisor VM,
     * which unmaps guest RAM unless a device thread still holds it ({@link GuestMemory#hold}: a worker stuck in
     * a backend's preadv), in which case the mapping stays until that thread returns; the trace last.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (state == State.CLOSED) return;
            state = State.CLOSED;
        } finally {
            lock.unlock();
        }
        if (outcome == null && !threads.isEmpty()) requestExit(ExitStatus.POWER_OFF, "VM closed");
        if (haltDetector != null) {
            haltDetector.stop();
            haltDetectorThread.interrupt();
            try {
                haltDetectorThread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Thread t : threads) {
            boolean interrupted = false;
            while (t.isAlive()) {
                try {
                    t.join(TimeUnit.SECONDS.toMillis(1));
                    if (t.isAlive()) vcpus.forEach(Vcpu::kick);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
        while (!closeables.isEmpty()) {
            AutoCloseable c = closeables.pop();
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
