package org.jhyve.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.jhyve.bus.Bus;
import org.jhyve.hv.Doorbell;
import org.jhyve.hv.HypervisorException;
import org.jhyve.hv.SoftwareDoorbell;
import org.jhyve.irq.IrqLine;
import org.jhyve.irq.MsiSink;
import org.jhyve.memory.GuestMemory;
import org.jhyve.pci.PciBus;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PowerButton;

/**
 * A machine for fuzz targets: real port-IO and MMIO buses and PCI over a {@link FuzzMemory}, interrupt lines
 * that do nothing, and an MSI sink that fails the way KVM's does when the guest programmed a message no vCPU
 * accepts ({@code KVM_SIGNAL_MSI} returning EPERM), for the messages the input chooses.
 *
 * <p>Thread-safe where {@link MachineContext} must be: device workers send MSIs and ring doorbells.
 */
public final class FuzzMachine implements MachineContext, AutoCloseable {
    private final FuzzMemory memory;
    private final Bus ioPorts = new Bus("port-io", TraceKind.PIO, Tracer.off());
    private final Bus mmio = new Bus("mmio", TraceKind.MMIO, Tracer.off());
    private final PciBus pci = new PciBus(ioPorts, mmio, Tracer.off());
    private final IntPredicate msiFails;
    private final AtomicInteger msisSent = new AtomicInteger();
    private final AtomicInteger msisRefused = new AtomicInteger();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    /** @param msiFails given the n-th message (from 0), whether the sink throws as KVM does for a bad one */
    public FuzzMachine(FuzzMemory memory, IntPredicate msiFails) {
        this.memory = memory;
        this.msiFails = msiFails;
    }

    public FuzzMachine(FuzzMemory memory) {
        this(memory, n -> false);
    }

    public FuzzMemory fuzzMemory() { return memory; }

    @Override public GuestMemory memory() { return memory; }

    @Override public Bus ioPorts() { return ioPorts; }

    @Override public Bus mmio() { return mmio; }

    @Override public PciBus pci() { return pci; }

    @Override public IrqLine irq(int gsi) { return level -> { }; }

    @Override
    public MsiSink msi() {
        return (address, data) -> {
            int n = msisSent.getAndIncrement();
            if (msiFails.test(n)) {
                msisRefused.incrementAndGet();
                throw new HypervisorException(String.format("KVM_SIGNAL_MSI address 0x%x data 0x%x: " + INJECTED, address, data), 1);
            }
        };
    }

    /** What the failures this sink injects say, so that a harness can tell the device's report of one from a bug. */
    public static final String INJECTED = "refused by the fuzz harness (as a host failure would)";

    /**
     * Whether {@code event} is a device reporting a failure this sink injected: a contained delivery fault, logged
     * with the exception the first time and with its text after that. Such a line is the device doing its job.
     */
    public static boolean injected(LogEvent event) {
        return event.message().contains(INJECTED) || event.thrown() != null && String.valueOf(event.thrown().getMessage()).contains(INJECTED);
    }

    /** MSIs devices tried to send, and how many of them the sink refused. */
    public int msisSent() { return msisSent.get(); }

    public int msisRefused() { return msisRefused.get(); }

    @Override public Doorbell newDoorbell() { return new SoftwareDoorbell(); }

    /** No hypervisor to bind doorbells to: notify writes reach the device through the MMIO bus. */
    @Override public Optional<AutoCloseable> bindDoorbell(Doorbell doorbell, long address, int length) { return Optional.empty(); }

    @Override public int vcpuCount() { return 1; }

    @Override public void requestExit(ExitStatus status, String reason) { }

    @Override public void installPowerButton(PowerButton button) { }

    @Override
    public synchronized void closeOnExit(AutoCloseable resource) {
        closeables.add(resource);
    }

    @Override
    public synchronized void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
        closeables.clear();
    }
}
