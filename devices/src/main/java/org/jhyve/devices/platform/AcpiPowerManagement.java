package org.jhyve.devices.platform;

import org.jhyve.bus.BusDevice;
import org.jhyve.irq.IrqLine;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PlatformDevice;
import org.jhyve.vm.PowerButton;

/**
 * The ACPI fixed-hardware registers at bhyve's ports, as one 12-byte block from 0x400:
 * PM1a_STS (0x400, write-one-to-clear), PM1a_EN (0x402), PM1a_CNT (0x404), and the 24-bit PM timer
 * (0x408, 3.579545 MHz). Writing SLP_EN with sleep type S5 to PM1a_CNT powers the machine off: that is
 * what a guest's ACPI power-off (and jhyve's guest programs) do.
 *
 * <p>It is also the fixed-feature power button: {@link #press()} sets PWRBTN_STS and, when the guest's
 * ACPI driver has enabled PWRBTN_EN, raises the SCI (ISA IRQ 9, level-triggered) until the guest clears
 * the status. ACPI mode is on from reset (SCI_EN set), since there is no SMI_CMD port to switch it.
 */
public final class AcpiPowerManagement implements PlatformDevice, BusDevice, PowerButton {
    public static final int BASE_PORT = 0x400;
    public static final int PM1A_EVT_PORT = 0x400;
    public static final int PM1A_CNT_PORT = 0x404;
    public static final int PM_TIMER_PORT = 0x408;
    /** The sleep-type value jhyve's DSDT gives \_S5 (soft off). */
    public static final int SLP_TYP_S5 = 5;
    public static final int SLP_EN = 1 << 13;
    public static final long PM_TIMER_HZ = 3_579_545;
    public static final int SCI_EN = 1;
    /** PM1 status and enable bit of the fixed power button. */
    public static final int PWRBTN = 1 << 8;
    /** The ISA IRQ the FADT gives as SCI_INT. */
    public static final int SCI_IRQ = 9;
    private static final int LENGTH = 12;

    private MachineContext machine;
    private IrqLine sci;
    private final long startNanos = System.nanoTime();
    private int status;
    private int enable;
    private int control = SCI_EN;
    private boolean sciAsserted;

    @Override
    public void install(MachineContext machine) {
        this.machine = machine;
        this.sci = machine.irq(SCI_IRQ);
        machine.ioPorts().register(BASE_PORT, LENGTH, "acpi-pm", this);
        machine.installPowerButton(this);
    }

    /** Presses the power button; true if the guest enabled the event (so it will act on it). */
    @Override
    public synchronized boolean press() {
        status |= PWRBTN;
        updateSci();
        return (enable & PWRBTN) != 0 && (control & SCI_EN) != 0;
    }

    /** The SCI is level-triggered: asserted while an enabled status bit is set. */
    private void updateSci() {
        boolean level = (status & enable) != 0 && (control & SCI_EN) != 0;
        if (level != sciAsserted) {
            sciAsserted = level;
            sci.set(level);
        }
    }

    @Override
    public synchronized long read(long offset, int size) {
        long timer = timerTicks();
        long value = 0;
        for (int i = size - 1; i >= 0; i--) value = value << 8 | readByte((int) offset + i, timer);
        return value;
    }

    private int readByte(int at, long timer) {
        return switch (at) {
            case 0, 1 -> status >>> (8 * at);
            case 2, 3 -> enable >>> (8 * (at - 2));
            case 4, 5 -> control >>> (8 * (at - 4));
            case 8, 9, 10 -> (int) (timer >>> (8 * (at - 8)));
            default -> 0; // bits 24-31 of the 24-bit timer, and the gap after PM1a_CNT
        } & 0xff;
    }

    @Override
    public void write(long offset, int size, long value) {
        int sleepType = -1;
        synchronized (this) {
            for (int i = 0; i < size; i++) {
                int at = (int) offset + i;
                int b = (int) (value >>> (8 * i)) & 0xff;
                switch (at) {
                    case 0, 1 -> status &= ~(b << (8 * at));
                    case 2, 3 -> enable = (enable & ~(0xff << (8 * (at - 2)))) | b << (8 * (at - 2));
                    case 4, 5 -> control = (control & ~(0xff << (8 * (at - 4)))) | b << (8 * (at - 4));
                    default -> { } // the timer is read-only
                }
            }
            if ((control & SLP_EN) != 0) {
                sleepType = (control >>> 10) & 0x7;
                control &= ~SLP_EN; // SLP_EN is write-only: it reads as 0
            }
            updateSci();
        }
        if (sleepType == SLP_TYP_S5) machine.requestExit(ExitStatus.POWER_OFF, "ACPI power-off (S5) through port 0x404");
    }

    /** Ticks of the 3.579545 MHz timer since the machine was made, as the 24 bits the register holds. */
    private long timerTicks() {
        long nanos = System.nanoTime() - startNanos;
        // nanos * HZ / 1e9 without overflow for centuries of uptime: split seconds and remainder.
        long ticks = (nanos / 1_000_000_000L) * PM_TIMER_HZ + (nanos % 1_000_000_000L) * PM_TIMER_HZ / 1_000_000_000L;
        return ticks & 0xffffff;
    }
}
