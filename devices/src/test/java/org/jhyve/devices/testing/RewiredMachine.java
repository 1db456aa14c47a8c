package org.jhyve.devices.testing;

import java.util.Optional;
import org.jhyve.bus.Bus;
import org.jhyve.hv.Doorbell;
import org.jhyve.irq.IrqLine;
import org.jhyve.irq.MsiSink;
import org.jhyve.memory.GuestMemory;
import org.jhyve.pci.PciBus;
import org.jhyve.testing.TestMachine;
import org.jhyve.trace.Tracer;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PowerButton;

/**
 * A {@link TestMachine} with its guest memory or its MSI delivery replaced, for fault-injection tests: an MSI
 * sink that throws as KVM_SIGNAL_MSI can, or guest memory whose host mapping has a lifetime as under KVM. The
 * buses, PCI, interrupt lines and exit requests stay the test machine's, so its recordings still work.
 */
public final class RewiredMachine implements MachineContext {
    private final TestMachine base;
    private final GuestMemory memory;
    private final MsiSink msi;

    public RewiredMachine(TestMachine base, GuestMemory memory, MsiSink msi) {
        this.base = base;
        this.memory = memory;
        this.msi = msi;
    }

    /** The test machine with MSIs going to {@code msi} instead of its recording. */
    public static RewiredMachine withMsi(TestMachine base, MsiSink msi) {
        return new RewiredMachine(base, base.memory(), msi);
    }

    @Override public GuestMemory memory() { return memory; }

    @Override public MsiSink msi() { return msi; }

    @Override public Bus ioPorts() { return base.ioPorts(); }

    @Override public Bus mmio() { return base.mmio(); }

    @Override public PciBus pci() { return base.pci(); }

    @Override public IrqLine irq(int gsi) { return base.irq(gsi); }

    @Override public Doorbell newDoorbell() { return base.newDoorbell(); }

    @Override public Optional<AutoCloseable> bindDoorbell(Doorbell doorbell, long address, int length) { return base.bindDoorbell(doorbell, address, length); }

    @Override public Tracer tracer() { return base.tracer(); }

    @Override public int vcpuCount() { return base.vcpuCount(); }

    @Override public void requestExit(ExitStatus status, String reason) { base.requestExit(status, reason); }

    @Override public void installPowerButton(PowerButton button) { base.installPowerButton(button); }

    @Override public void closeOnExit(AutoCloseable resource) { base.closeOnExit(resource); }
}
