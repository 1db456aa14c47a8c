package org.jhyve.devices.ahci;

import static org.jhyve.devices.ahci.AhciRegisters.*;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.bus.BusDevice;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.irq.IrqLine;
import org.jhyve.pci.PciBar;
import org.jhyve.pci.PciFunction;
import org.jhyve.vm.MachineContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An AHCI 1.3 host bus adapter as a PCI function, one port per drive, in the style of bhyve's {@code ahci}.
 * It shows Intel ICH9's IDs (8086:2922, as QEMU's q35) and the SATA/AHCI class code 01 06 01, so every
 * AHCI driver binds to it; the ABAR is BAR5 (8 KiB, 32-bit memory). Interrupts: one MSI message when the
 * guest enables the MSI capability, otherwise INTx (pin A, level: asserted while IS has a bit and GHC.IE is
 * set).
 *
 * <p>Each port runs its commands on its own worker thread ({@link PortWorker}, named
 * {@code jhyve-ahci-<name>-p<port>}), started when the guest first starts the port's engine and ended by
 * {@link #close}: a vCPU writing PxCI records the bits and returns. One lock guards every register of the HBA
 * and its ports; workers hold it to fetch a command and to complete it, never while the device executes, so
 * a slow read or fdatasync holds up neither the vCPU that issued it nor register reads on other vCPUs.
 *
 * <p>GHC.HR resets the registers at once and drops the commands in flight (their completions are discarded,
 * see {@link AhciPort}); HR reads back as 1 until those commands have returned from the backend, so a driver
 * that waits for HR to clear (Linux waits up to a second) knows no DMA of theirs can still reach its memory.
 * No reset waits for a worker: a vCPU writing GHC.HR, PxSCTL or PxCMD returns at once even when the backend
 * hangs; only {@link #close} waits, a bounded time, on the thread closing the VM.
 *
 * <p>An interrupt the platform refuses to deliver (an MSI whose destination, which the guest programmed, no
 * vCPU has) is lost, counted and logged, rate-limited; it never reaches the worker or the vCPU that caused it.
 */
public final class AhciHba extends PciFunction implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AhciHba.class);

    public static final int VENDOR_INTEL = 0x8086, DEVICE_ICH9_AHCI = 0x2922, CLASS_SATA_AHCI = 0x010601, REVISION = 0x02;
    public static final int ABAR_INDEX = 5, ABAR_SIZE = 0x2000;
    static final int CAP_ID_MSI = 0x05;
    /** MSI capability: message control, address (64-bit), data; offsets in the capability. */
    static final int MSI_CONTROL = 2, MSI_ADDRESS = 4, MSI_ADDRESS_HIGH = 8, MSI_DATA = 12, MSI_LENGTH = 14;
    private static final int MSI_ENABLE = 0x0001, MSI_64BIT = 0x0080, MSI_MME = 0x0070;

    /** How long {@link #close} waits for the workers to finish the commands in hand. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    private final AhciPort[] ports;
    private final ReentrantLock lock = new ReentrantLock();
    private final MachineContext machine;
    private final IrqLine intx;
    private final int msiCapability;
    private final int capabilities;
    /** Interrupts the platform refused to deliver (an MSI to no vCPU, a closed VM): logged, rate-limited. */
    private final GuestErrorLog deliveryFaults;

    // GHC.IE and the latched IS register; guarded by lock.
    private boolean interruptsEnabled;
    private int interruptStatus;
    private boolean intxAsserted;

    AhciHba(String name, List<SataDevice> devices, MachineContext machine, IrqLine intx, int intxGsi) {
        super(name, VENDOR_INTEL, DEVICE_ICH9_AHCI, CLASS_SATA_AHCI, REVISION);
        if (devices.isEmpty() || devices.size() > SLOTS) throw new IllegalArgumentException("an AHCI HBA has 1 to 32 ports, not " + devices.size());
        this.machine = machine;
        this.intx = intx;
        this.deliveryFaults = new GuestErrorLog(log, name);
        this.ports = new AhciPort[devices.size()];
        PortHost host = new PortHost(name, machine.memory(), this::busMasterEnabled, lock, () -> updateInterrupts(false));
        for (int i = 0; i < ports.length; i++) ports[i] = new AhciPort(name + " port " + i, i, devices.get(i), host);
        this.capabilities = CAP_S64A | CAP_SNCQ | CAP_SCLO | CAP_SAM | GEN3 << CAP_ISS_SHIFT | (SLOTS - 1) << CAP_NCS_SHIFT | (ports.length - 1);
        setConfig8(INTERRUPT_PIN, 1);
        setConfig8(INTERRUPT_LINE, intxGsi);
        addBar(new PciBar(ABAR_INDEX, PciBar.Kind.MEMORY32, ABAR_SIZE, false, new Abar()));
        msiCapability = addCapability(CAP_ID_MSI, MSI_LENGTH);
        setConfig16(msiCapability + MSI_CONTROL, MSI_64BIT); // one message (MMC 0), 64-bit addresses
        setWritable(msiCapability + MSI_CONTROL, 2, MSI_ENABLE | MSI_MME);
        setWritable(msiCapability + MSI_ADDRESS, 4, 0xffff_fffcL);
        setWritable(msiCapability + MSI_ADDRESS_HIGH, 4, 0xffff_ffffL);
        setWritable(msiCapability + MSI_DATA, 2, 0xffff);
    }

    int portCount() { return ports.length; }

    /** Interrupt deliveries the platform refused, contained and logged, since start. */
    long contained() { return deliveryFaults.count(); }

    AhciPort port(int index) { return ports[index]; }

    /** For tests: whether port {@code index}'s worker has seen every PxCI write and has nothing to run. */
    boolean quiescent(int index) {
        lock.lock();
        try {
            return ports[index].quiescent();
        } finally {
            lock.unlock();
        }
    }

    /** The offset of the MSI capability in configuration space. */
    int msiCapability() { return msiCapability; }

    @Override
    protected void configWritten(int offset, int size, int value) {
        // MSI enable and the INTx-disable bit both decide which interrupt carries IS.
        lock.lock();
        try {
            updateInterrupts(false);
        } finally {
            lock.unlock();
        }
    }

    // ---- ABAR ----

    private final class Abar implements BusDevice {
        @Override
        public long read(long offset, int size) {
            lock.lock();
            try {
                if (size == 8) return readRegister((int) offset) & 0xffff_ffffL | (readRegister((int) offset + 4) & 0xffff_ffffL) << 32;
                long v = (readRegister((int) offset & ~3) & 0xffff_ffffL) >>> (8 * (offset & 3));
                return size == 4 ? v : v & ((1L << (8 * size)) - 1);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            lock.lock();
            try {
                if (size == 8 && (offset & 7) == 0) {
                    writeRegister((int) offset, (int) value);
                    writeRegister((int) offset + 4, (int) (value >>> 32));
                } else if (size == 4 && (offset & 3) == 0) {
                    writeRegister((int) offset, (int) value);
                } else {
                    // AHCI registers are written as dwords; a narrower write to a write-one-to-clear register
                    // cannot be merged safely, so it is dropped.
                    log.debug("{}: {}-byte write at ABAR+0x{} ignored", name(), size, Long.toHexString(offset));
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private int readRegister(int offset) {
        assert lock.isHeldByCurrentThread();
        if (offset >= PORT_BASE) {
            int port = (offset - PORT_BASE) / PORT_STRIDE;
            return port < ports.length ? ports[port].read((offset - PORT_BASE) % PORT_STRIDE) : 0;
        }
        return switch (offset) {
            case CAP -> capabilities;
            case GHC -> GHC_AE | (interruptsEnabled ? GHC_IE : 0) | (resetDraining() ? GHC_HR : 0);
            case IS -> interruptStatus;
            case PI -> (int) ((1L << ports.length) - 1);
            case VS -> VERSION_1_3;
            default -> 0; // CCC, enclosure management, CAP2, BOHC: none of those features
        };
    }

    private void writeRegister(int offset, int value) {
        assert lock.isHeldByCurrentThread();
        if (offset >= PORT_BASE) {
            int port = (offset - PORT_BASE) / PORT_STRIDE;
            if (port < ports.length) {
                ports[port].write((offset - PORT_BASE) % PORT_STRIDE, value);
                updateInterrupts(false);
            }
            return;
        }
        switch (offset) {
            case GHC -> {
                if ((value & GHC_HR) != 0) {
                    reset();
                    return; // HR reads back as 0 once no dropped command is executing any more
                }
                boolean was = interruptsEnabled;
                interruptsEnabled = (value & GHC_IE) != 0; // AE is read-only one: CAP.SAM, AHCI mode only
                updateInterrupts(interruptsEnabled && !was);
            }
            case IS -> {
                interruptStatus &= ~value;
                updateInterrupts(false);
            }
            default -> { } // CAP, PI, VS, CAP2 are read-only; CCC and EM are not implemented
        }
    }

    private boolean resetDraining() {
        for (AhciPort p : ports) if (p.hbaResetDraining()) return true;
        return false;
    }

    /** GHC.HR: every port and the global registers back to their reset values; the links come up again. */
    private void reset() {
        interruptsEnabled = false;
        interruptStatus = 0;
        for (AhciPort p : ports) p.hbaReset();
        updateInterrupts(false);
    }

    /**
     * IS latches each port whose PxIS has an enabled bit; software clears it after clearing PxIS. With MSI a
     * message goes out when an IS bit newly sets (or GHC.IE turns on with IS pending); with INTx the line
     * follows "GHC.IE and IS non-zero". Called with the lock held, by vCPUs and by port workers (after a
     * completion): the MSI and command registers it reads are configuration bytes, which PciFunction lets any
     * thread read.
     */
    private void updateInterrupts(boolean enabledNow) {
        assert lock.isHeldByCurrentThread();
        int pending = 0;
        for (int i = 0; i < ports.length; i++) if (ports[i].interruptPending()) pending |= 1 << i;
        int fresh = pending & ~interruptStatus;
        interruptStatus |= pending;
        boolean msi = msiEnabled();
        setIntx(!msi && interruptsEnabled && interruptStatus != 0 && !intxDisabled());
        if (msi && interruptsEnabled && (fresh != 0 || (enabledNow && interruptStatus != 0))) sendMsi();
    }

    private boolean msiEnabled() {
        return (config16(msiCapability + MSI_CONTROL) & MSI_ENABLE) != 0;
    }

    /**
     * Sends the MSI the guest programmed. The platform may refuse it (on KVM, a destination no vCPU has; the guest
     * chose it): that interrupt is lost, as on a bus where no one claims the write, and the fault is contained
     * here, so it reaches neither the port's worker nor the vCPU whose register write sent it.
     */
    private void sendMsi() {
        long address = (config32(msiCapability + MSI_ADDRESS) & 0xffff_ffffL) | (long) config32(msiCapability + MSI_ADDRESS_HIGH) << 32;
        int data = config16(msiCapability + MSI_DATA);
        try {
            machine.msi().signal(address, data);
        } catch (RuntimeException e) {
            deliveryFaults.fault(String.format("MSI to address 0x%x, data 0x%x not delivered; the interrupt is lost", address, data), e);
        }
    }

    private void setIntx(boolean level) {
        if (level == intxAsserted) return;
        intxAsserted = level;
        try {
            intx.set(level);
        } catch (RuntimeException e) {
            deliveryFaults.fault("INTx " + (level ? "assertion" : "deassertion") + " not delivered", e);
        }
    }

    @Override
    public String toString() {
        return name() + " (AHCI, " + ports.length + (ports.length == 1 ? " port)" : " ports)");
    }

    /**
     * Ends the port workers (each finishes the command in hand first; the wait is bounded), then closes every
     * drive's backend, making completed writes durable. A backend whose worker is still stuck in it stays open:
     * closing its descriptor under a running read or write could send that I/O to whatever file reuses it. The
     * stuck worker also keeps its hold on guest RAM ({@link org.jhyve.memory.GuestMemory#hold}), so the VM's
     * close leaves RAM mapped until the command returns; whatever it completes then reaches the guest no more.
     */
    @Override
    public void close() {
        close(CLOSE_WAIT);
    }

    /** {@link #close()}, waiting at most {@code wait} in all for the workers. */
    void close(Duration wait) {
        lock.lock();
        try {
            for (AhciPort p : ports) p.stopWorker();
        } finally {
            lock.unlock();
        }
        long deadline = System.nanoTime() + wait.toNanos();
        for (AhciPort p : ports) {
            try {
                if (!p.awaitWorkerEnd(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                    log.error("{}: a command on {} is still executing after {} ms; its backend is left open", name(), p.device().describe(), wait.toMillis());
                    continue;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                log.error("{}: interrupted while waiting for the port workers; {} is left open", name(), p.device().describe());
                continue;
            }
            try {
                p.device().close();
            } catch (IOException e) {
                log.error("{}: closing {} failed: {}", name(), p.device().describe(), e.getMessage());
            }
        }
    }
}
