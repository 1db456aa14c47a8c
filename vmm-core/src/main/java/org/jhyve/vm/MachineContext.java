package org.jhyve.vm;

import java.util.Optional;
import org.jhyve.bus.Bus;
import org.jhyve.hv.Doorbell;
import org.jhyve.irq.MsiSink;
import org.jhyve.irq.IrqLine;
import org.jhyve.memory.GuestMemory;
import org.jhyve.pci.PciBus;
import org.jhyve.trace.Tracer;

/**
 * What a device model may reach of the machine it is plugged into: the device SPI. An embedder holds the
 * {@link VirtualMachine} instead, which runs the machine.
 *
 * <p>Threads: a device gets it when it is created or installed, on the thread building the VM, and may use it
 * from then on from vCPU threads and its own workers at once: every method is safe from any thread.
 * {@link #installPowerButton} belongs to the build.
 */
public interface MachineContext {
    GuestMemory memory();

    /** The port-IO address space (64 KiB). */
    Bus ioPorts();

    /** The MMIO address space (guest-physical addresses that are not RAM). */
    Bus mmio();

    PciBus pci();

    /** Interrupt line {@code gsi} of the platform's IOAPIC (0–15 are also the ISA IRQs on the PIC). */
    IrqLine irq(int gsi);

    /** Message-signalled interrupt delivery, for MSI-X capable devices. */
    MsiSink msi();

    /** A doorbell a device's worker thread waits on (see {@link #bindDoorbell}). */
    Doorbell newDoorbell();

    /**
     * Makes guest writes of {@code length} bytes to MMIO {@code address} ring {@code doorbell} without a vCPU exit,
     * when the hypervisor can (KVM ioeventfd). Close the binding before the address stops belonging to the device.
     */
    Optional<AutoCloseable> bindDoorbell(Doorbell doorbell, long address, int length);

    /** The VM's identity, when it was given one ({@code -U}, {@link VmBuilder#uuid}). */
    default Optional<java.util.UUID> uuid() { return Optional.empty(); }

    /**
     * The VM's trace, for devices that record what the buses cannot see (virtqueue chains, say). Test
     * {@link Tracer#enabled(org.jhyve.trace.TraceKind)} before building an event.
     */
    default Tracer tracer() { return Tracer.off(); }

    /** Number of vCPUs the VM has. */
    int vcpuCount();

    /** Ends the VM with {@code status}: a power-off or reset register was written, for example. */
    void requestExit(ExitStatus status, String reason);

    /**
     * Ends the VM with {@code status} and a process exit code the guest chose rather than {@code status}'s
     * own: QEMU's isa-debug-exit device, whose guest writes the code. An implementation without a way to
     * carry the code ends the VM with {@code status} alone.
     */
    default void requestExit(ExitStatus status, int exitCode, String reason) {
        requestExit(status, reason);
    }

    /** Installs the machine's power button (one per machine); {@link VirtualMachine#requestPowerOff()} presses it. */
    void installPowerButton(PowerButton button);

    /** Registers a resource (a backend, a file) that the VM closes when it is closed, in reverse order. */
    void closeOnExit(AutoCloseable resource);
}
