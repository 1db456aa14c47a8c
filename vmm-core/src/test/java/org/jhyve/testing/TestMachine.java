package org.jhyve.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jhyve.bus.Bus;
import org.jhyve.hv.Doorbell;
import org.jhyve.hv.SoftwareDoorbell;
import org.jhyve.irq.IrqLine;
import org.jhyve.irq.MsiSink;
import org.jhyve.irq.TracedInterrupts;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.jhyve.pci.PciBus;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.VmOutcome;

/**
 * A machine for device unit tests: real buses and PCI on heap guest memory, with interrupt levels and
 * exit requests recorded so tests can assert on them. Shared with other modules through the test-jar.
 * Given a {@link Tracer}, its buses, PCI and interrupts trace as a VM's do.
 */
public final class TestMachine implements MachineContext, AutoCloseable {
    private final GuestMemory memory;
    private final Tracer tracer;
    private final Bus ioPorts;
    private final Bus mmio;
    private final PciBus pci;
    private final Map<Integer, Boolean> irqLevels = new ConcurrentHashMap<>();
    private final List<String> irqEvents = new CopyOnWriteArrayList<>();
    private final List<VmOutcome> exitRequests = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<Msi> msis = new CopyOnWriteArrayList<>();

    /** One message-signalled interrupt as a device sent it. */
    public record Msi(long address, int data) {}

    public TestMachine(long memoryBytes) {
        this(memoryBytes, Tracer.off());
    }

    public TestMachine(long memoryBytes, Tracer tracer) {
        this.memory = SegmentGuestMemory.onHeap(memoryBytes);
        this.tracer = tracer;
        this.ioPorts = new Bus("port-io", TraceKind.PIO, tracer);
        this.mmio = new Bus("mmio", TraceKind.MMIO, tracer);
        this.pci = new PciBus(ioPorts, mmio, tracer);
    }

    public TestMachine() {
        this(16L << 20);
    }

    @Override public GuestMemory memory() { return memory; }

    @Override public Bus ioPorts() { return ioPorts; }

    @Override public Bus mmio() { return mmio; }

    @Override public PciBus pci() { return pci; }

    @Override public int vcpuCount() { return 1; }

    @Override
    public IrqLine irq(int gsi) {
        return TracedInterrupts.line(gsi, level -> {
            irqLevels.put(gsi, level);
            irqEvents.add(gsi + (level ? "+" : "-"));
        }, tracer);
    }

    @Override public Tracer tracer() { return tracer; }

    /** The level last driven on {@code gsi} (false if never driven). */
    public boolean irqLevel(int gsi) {
        return irqLevels.getOrDefault(gsi, false);
    }

    /** Every level change in order, as "4+" / "4-". */
    public List<String> irqEvents() { return List.copyOf(irqEvents); }

    @Override public MsiSink msi() { return TracedInterrupts.msi((address, data) -> msis.add(new Msi(address, data)), tracer); }

    /** Every MSI sent so far, in order. */
    public List<Msi> msis() { return List.copyOf(msis); }

    @Override public Doorbell newDoorbell() { return new SoftwareDoorbell(); }

    /** Heap memory has no hypervisor to bind doorbells: guest writes reach the device through the bus. */
    @Override
    public Optional<AutoCloseable> bindDoorbell(Doorbell doorbell, long address, int length) { return Optional.empty(); }

    @Override
    public void requestExit(ExitStatus status, String reason) {
        exitRequests.add(new VmOutcome(status, reason));
    }

    @Override
    public void requestExit(ExitStatus status, int exitCode, String reason) {
        exitRequests.add(new VmOutcome(status, reason, exitCode));
    }

    public List<VmOutcome> exitRequests() { return List.copyOf(exitRequests); }

    private org.jhyve.vm.PowerButton powerButton;

    @Override
    public void installPowerButton(org.jhyve.vm.PowerButton button) {
        this.powerButton = button;
    }

    /** Presses the installed power button; false if there is none or the guest does not listen. */
    public boolean pressPowerButton() {
        return powerButton != null && powerButton.press();
    }

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
