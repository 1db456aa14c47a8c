package org.jhyve.devices.virtio;

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
 * A {@link TestMachine} as a device sees it, with its guest memory or its MSI delivery swapped for a test's
 * (a {@link RecordingGuestMemory}, a sink that throws as KVM_SIGNAL_MSI does for a message no vCPU takes).
 */
record MachineView(TestMachine machine, GuestMemory memory, MsiSink msi) implements MachineContext {
    static MachineView withMemory(TestMachine machine, GuestMemory memory) { return new MachineView(machine, memory, machine.msi()); }

    static MachineView withMsi(TestMachine machine, MsiSink msi) { return new MachineView(machine, machine.memory(), msi); }

    @Override public Bus ioPorts() { return machine.ioPorts(); }
    @Override public Bus mmio() { return machine.mmio(); }
    @Override public PciBus pci() { return machine.pci(); }
    @Override public IrqLine irq(int gsi) { return machine.irq(gsi); }
    @Override public Doorbell newDoorbell() { return machine.newDoorbell(); }
    @Override public Optional<AutoCloseable> bindDoorbell(Doorbell d, long address, int length) { return machine.bindDoorbell(d, address, length); }
    @Override public Tracer tracer() { return machine.tracer(); }
    @Override public int vcpuCount() { return machine.vcpuCount(); }
    @Override public void requestExit(ExitStatus status, String reason) { machine.requestExit(status, reason); }
    @Override public void installPowerButton(PowerButton button) { machine.installPowerButton(button); }
    @Override public void closeOnExit(AutoCloseable resource) { machine.closeOnExit(resource); }
}
