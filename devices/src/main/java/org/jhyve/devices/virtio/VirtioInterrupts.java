package org.jhyve.devices.virtio;

import java.util.function.BooleanSupplier;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.irq.IrqLine;
import org.jhyve.irq.MsiSink;
import org.jhyve.pci.MsixTable;

/**
 * How the virtio PCI transport interrupts its driver (virtio 1.2, 4.1.4.5 and 4.1.5): while MSI-X is enabled,
 * with the vector the driver chose for the queue or for configuration changes (none if it chose NO_VECTOR);
 * otherwise by setting a bit of the ISR status byte and asserting INTx, unless the PCI command register disables
 * it. Reading the ISR status acknowledges it and lowers INTx.
 *
 * <p>An MSI the platform refuses (KVM finds no vCPU for a destination the guest wrote into the table: EPERM) is
 * lost, as on hardware, counted and logged rate-limited; it never reaches the caller, be that a worker signalling
 * a completion or a vCPU unmasking a vector.
 *
 * <p>Threading rules. Worker threads signal concurrently with each other and with vCPU threads that read the ISR
 * or reset the device; nothing here takes the transport's register lock (a reset holds it while it waits for the
 * workers). The ISR and the INTx level are guarded by a lock of their own, the MSI-X table by its own monitor.
 */
final class VirtioInterrupts {
    /** ISR status bits: a queue has used buffers; the device configuration changed. */
    static final int ISR_QUEUE = 1, ISR_CONFIG = 2;

    private final IrqLine intx;
    private final BooleanSupplier intxDisabled;
    private final GuestErrorLog errors;
    private final MsixTable msix;
    private final Object isrLock = new Object();
    private int isr; // guarded by isrLock

    /**
     * Routing for a function with an MSI-X table of {@code vectors} entries whose messages go to {@code sink}, and
     * the INTx line {@code intx}, masked while {@code intxDisabled} says so (the function's command register).
     */
    VirtioInterrupts(int vectors, MsiSink sink, IrqLine intx, BooleanSupplier intxDisabled, GuestErrorLog errors) {
        this.intx = intx;
        this.intxDisabled = intxDisabled;
        this.errors = errors;
        this.msix = new MsixTable(vectors, contained(sink));
    }

    /** Delivery that cannot fail the caller: the message is the guest's own (the MSI-X table). */
    private MsiSink contained(MsiSink sink) {
        return (address, data) -> {
            try {
                sink.signal(address, data);
            } catch (RuntimeException e) {
                errors.fault(String.format("MSI-X message 0x%x to 0x%x was not delivered (the guest's table names no vCPU?)", data, address), e);
            }
        };
    }

    /** The MSI-X table, for the function's capability and BAR. */
    MsixTable msix() { return msix; }

    /** Queue {@code vector}'s (MSI-X) or the queue bit's (INTx) interrupt: the driver has used buffers to look at. */
    void queue(int vector) {
        signal(vector, ISR_QUEUE);
    }

    /** The configuration-change interrupt, on {@code vector} (MSI-X) or the configuration bit (INTx). */
    void configChange(int vector) {
        signal(vector, ISR_CONFIG);
    }

    private void signal(int vector, int isrBit) {
        if (msix.enabled()) {
            if (vector != CommonConfig.NO_VECTOR) msix.signal(vector);
            return;
        }
        synchronized (isrLock) {
            isr |= isrBit;
            if (!intxDisabled.getAsBoolean()) intx.set(true);
        }
    }

    /** Reads the ISR status, which acknowledges it: the bits clear and INTx goes low. */
    int takeIsr() {
        synchronized (isrLock) {
            int v = isr;
            isr = 0;
            intx.set(false);
            return v;
        }
    }
}
