package org.jhyve.vm;

import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.boot.BootState;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.Vcpu;
import org.jhyve.memory.GuestMemory;
import org.jhyve.vm.debug.GdbStub;
import org.jhyve.vm.debug.VcpuDebugHooks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A built VM, as its embedder holds it: its lifecycle. {@link #start()} runs one platform thread per vCPU;
 * {@link #pause()}/{@link #resume()} park and release them; {@link #stop()} ends the VM; {@link #await()}
 * returns how it ended. {@link #close()} releases every thread, fd and mapping. Build one with
 * {@link VmBuilder}. Devices see the machine inside ({@link MachineContext}), never this.
 *
 * <p>Threads: any thread may call any method; {@link #start()} and {@link #close()} take effect once.
 */
public final class VirtualMachine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VirtualMachine.class);

    private enum State { CREATED, RUNNING, ENDED, CLOSED }

    private final Machine machine;
    private final List<Vcpu> vcpus;
    private final boolean exitOnUnhandledIo;
    /** Present with {@link VmBuilder#gdb}: the VM starts held until gdb lets it run. */
    private final Optional<GdbStub> gdb;
    private final PauseGate pauses = new PauseGate();
    /** The vCPU threads, none before {@link #start()}. */
    private volatile List<Thread> threads = List.of();
    private HaltDetector haltDetector;
    private Thread haltDetectorThread;

    private final ReentrantLock lock = new ReentrantLock();
    private State state = State.CREATED;

    private VirtualMachine(Machine machine, Optional<GdbStub> gdb, boolean exitOnUnhandledIo) {
        this.machine = machine;
        this.vcpus = machine.vcpus();
        this.gdb = gdb;
        this.exitOnUnhandledIo = exitOnUnhandledIo;
        machine.whenEnded(outcome -> pauses.vmEnded());
        if (gdb.isPresent()) {
            GdbStub stub = gdb.get();
            machine.whenEnded(outcome -> stub.vmEnded(outcome.status().code()));
        }
    }

    /** Builds the machine {@code plan} describes on {@code hypervisor}, with its GDB stub listening if it has one. */
    static VirtualMachine build(Hypervisor hypervisor, VmPlan plan) {
        Machine machine = Machine.build(hypervisor, plan);
        try {
            // Branches rather than Optional.map with a lambda or method reference: either would load the GDB stub
            // (and what it brings) for every VM, whether or not it has one.
            Optional<GdbStub> gdb = plan.gdb().isPresent()
                    ? Optional.of(listenForGdb(machine, plan.gdb().get(), plan.gdbWaits())) : Optional.empty();
            log.info("VM built: {} MiB, {} vCPU(s), {}", plan.memoryBytes() >> 20, plan.vcpus(), machine.bootState().description());
            return new VirtualMachine(machine, gdb, plan.exitOnUnhandledIo());
        } catch (RuntimeException e) {
            machine.close();
            throw e;
        }
    }

    /** Binds the stub's socket now, so a port in use fails the build with one line rather than a running VM. */
    private static GdbStub listenForGdb(Machine machine, SocketAddress address, boolean waits) {
        GdbStub stub;
        try {
            stub = GdbStub.listen(address, machine.vcpus(), machine.memory(),
                    () -> machine.requestExit(ExitStatus.POWER_OFF, "killed by gdb"), waits);
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        machine.closeOnExit(stub);
        return stub;
    }

    /**
     * Where the GDB stub listens, when the VM was built with {@link VmBuilder#gdb}: an {@link InetSocketAddress}
     * on loopback with the port bound, or a {@link java.net.UnixDomainSocketAddress}.
     */
    public Optional<SocketAddress> gdbAddress() {
        return gdb.isPresent() ? Optional.of(gdb.get().address()) : Optional.empty();
    }

    /** Guest RAM: read and write it by guest-physical address, before the start too. */
    public GuestMemory memory() {
        return machine.memory();
    }

    /**
     * Starts every vCPU on its own platform thread. With a GDB stub ({@link VmBuilder#gdb}) they are held
     * before their first instruction until gdb continues them.
     */
    public void start() {
        lock.lock();
        try {
            if (state != State.CREATED) throw new IllegalStateException("VM already started");
            state = State.RUNNING;
            ExitHandler handler = new ExitHandler(machine.ioPorts(), machine.mmio(), exitOnUnhandledIo
                    ? what -> machine.requestExit(ExitStatus.ERROR, what + " (-e: exit on unhandled I/O)") : null);
            haltDetector = new HaltDetector(machine, vcpus);
            VcpuDebugHooks debug = gdb.isPresent() ? gdb.get().hooks() : VcpuDebugHooks.NONE;
            List<Thread> started = new ArrayList<>();
            for (Vcpu v : vcpus) {
                BootState initial = v.index() == 0 ? machine.bootState() : null;
                // The loop reports its own failures; the handler catches what escapes even that (its finally).
                Thread t = Thread.ofPlatform().name("jhyve-vcpu-" + v.index())
                        .uncaughtExceptionHandler((thread, e) -> machine.vcpuFailed(v.index(), e))
                        .unstarted(new VcpuLoop(machine, pauses, v, initial, handler, haltDetector, debug));
                started.add(t);
            }
            threads = List.copyOf(started);
            threads.forEach(Thread::start);
            if (gdb.isPresent()) gdb.get().serve();
            haltDetectorThread = Thread.ofPlatform().daemon().name("jhyve-halt-detector").start(haltDetector);
        } finally {
            lock.unlock();
        }
    }

    /** Stops every vCPU between two instructions and returns once all are parked. */
    public void pause() {
        requireRunning();
        pauses.pause(() -> vcpus.forEach(Vcpu::kick), this::liveThreads);
    }

    public void resume() {
        requireRunning();
        pauses.resume();
    }

    public boolean isPaused() {
        return pauses.isPaused(this::liveThreads);
    }

    /**
     * Asks the guest to power off, as bhyve does on SIGTERM: presses the power button. Returns true if the
     * guest listens for it; otherwise (no button, or a guest without an ACPI driver) the VM is stopped at
     * once and this returns false.
     */
    public boolean requestPowerOff() {
        PowerButton button = machine.powerButton();
        if (button != null && button.press()) return true;
        stop();
        return false;
    }

    /** Ends the VM from the host side, as pulling the plug: the outcome is POWER_OFF "stopped by the host". */
    public void stop() {
        machine.requestExit(ExitStatus.POWER_OFF, "stopped by the host");
    }

    /**
     * Ends the VM with {@code status} and {@code reason}, as a device may: the first reason wins, later ones are
     * logged and ignored. For a host-side failure of the embedder's that must end the guest (ERROR, status 4).
     */
    public void requestExit(ExitStatus status, String reason) {
        machine.requestExit(status, reason);
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
    public VmOutcome outcome() {
        return machine.outcome();
    }

    /** Every vCPU thread has ended; one that ended without deciding the outcome (it cannot, but) is an error. */
    private VmOutcome finish() {
        if (machine.outcome() == null) machine.requestExit(ExitStatus.ERROR, "every vCPU thread ended without the VM ending");
        lock.lock();
        try {
            if (state == State.RUNNING) state = State.ENDED;
            return machine.outcome();
        } finally {
            lock.unlock();
        }
    }

    private void requireRunning() {
        lock.lock();
        try {
            if (state != State.RUNNING) throw new IllegalStateException("VM is not running");
        } finally {
            lock.unlock();
        }
    }

    private int liveThreads() {
        return (int) threads.stream().filter(Thread::isAlive).count();
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
        List<Thread> started = threads;
        if (machine.outcome() == null && !started.isEmpty()) machine.requestExit(ExitStatus.POWER_OFF, "VM closed");
        if (haltDetector != null) {
            haltDetector.stop();
            haltDetectorThread.interrupt();
            try {
                haltDetectorThread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Thread t : started) {
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
        machine.close();
    }
}
