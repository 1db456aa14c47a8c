package org.jhyve.irqchip;

import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.bus.BusDevice;
import org.jhyve.irq.IrqLine;

/**
 * The PC's two 8259A PICs: the master at ports 0x20-0x21, the slave at 0xA0-0xA1 cascaded on the master's IRQ2,
 * and the PIIX's edge/level control registers (ELCR) at 0x4D0-0x4D1. ISA IRQs 0-7 are master inputs, 8-15
 * slave inputs; IRQ 2 does not exist as a device line (it is the cascade).
 *
 * <p>The output is the INTR pin ({@code intr}, given at construction), driven whenever whether an unmasked
 * request above the in-service level exists changes. The vCPU that injects the PIC's interrupt runs the INTA
 * cycle, {@link #acknowledge}, to learn the vector.
 *
 * <p>Threading rules: every method, and the three port devices, from any thread at once; one lock guards both
 * chips. {@code intr} is driven with that lock held, so the order of its calls is the order of the changes; it
 * must return at once (set a flag, kick a vCPU) and not wait for another thread that takes this lock. Lock order:
 * a device's own lock (the PIT's, the RTC's) may be held when it calls {@link #setIrq}; this class takes no other
 * device's lock.
 */
public final class CascadedPics {
    public static final int MASTER_PORT = 0x20;
    public static final int SLAVE_PORT = 0xA0;
    public static final int ELCR_PORT = 0x4D0;
    private static final int CASCADE = 2;

    private final ReentrantLock lock = new ReentrantLock();
    private final Pic8259 master = new Pic8259(true);
    private final Pic8259 slave = new Pic8259(false);
    private final IrqLine intr;
    private boolean intrDriven;

    private final BusDevice masterPorts = new ChipPorts(master);
    private final BusDevice slavePorts = new ChipPorts(slave);
    private final BusDevice elcrPorts = new ElcrPorts();

    public CascadedPics(IrqLine intr) {
        this.intr = intr;
    }

    /** Drives ISA IRQ {@code irq} (0-15, not 2) to {@code level}; anything else is ignored. */
    public void setIrq(int irq, boolean level) {
        if (irq < 0 || irq > 15 || irq == CASCADE) return;
        lock.lock();
        try {
            (irq < 8 ? master : slave).setInput(irq & 7, level);
            update();
        } finally {
            lock.unlock();
        }
    }

    /** Whether INTR is asserted: an unmasked request the CPU would take. */
    public boolean pending() {
        lock.lock();
        try {
            return master.pendingInput() >= 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The INTA cycle: returns the vector of the highest-priority request and moves it from IRR to ISR. When the
     * request went away before the cycle, the chip answers with its IRQ 7 (the master) or, the master's IRQ2
     * having been acknowledged, the slave's IRQ 15, without setting an in-service bit of its own.
     */
    public int acknowledge() {
        lock.lock();
        try {
            int vector;
            int irq = master.pendingInput();
            if (irq < 0) {
                vector = master.vectorBase() + 7;
            } else {
                master.acknowledge(irq);
                if (irq == CASCADE) {
                    int slaveIrq = slave.pendingInput();
                    if (slaveIrq >= 0) slave.acknowledge(slaveIrq);
                    vector = slave.vectorBase() + (slaveIrq >= 0 ? slaveIrq : 7);
                } else {
                    vector = master.vectorBase() + irq;
                }
            }
            update();
            return vector;
        } finally {
            lock.unlock();
        }
    }

    /** The master's ports, for 0x20-0x21. */
    public BusDevice masterPorts() {
        return masterPorts;
    }

    /** The slave's ports, for 0xA0-0xA1. */
    public BusDevice slavePorts() {
        return slavePorts;
    }

    /** The ELCR pair, for 0x4D0-0x4D1 (a bit set: that IRQ is level-sensitive). */
    public BusDevice elcrPorts() {
        return elcrPorts;
    }

    /** Propagates the slave's output to the master's cascade input and drives INTR. Called with the lock held. */
    private void update() {
        assert lock.isHeldByCurrentThread();
        master.setInput(CASCADE, slave.pendingInput() >= 0);
        boolean request = master.pendingInput() >= 0;
        if (request != intrDriven) {
            intrDriven = request;
            intr.set(request);
        }
    }

    /** One chip's command (offset 0) and data (offset 1) ports. */
    private final class ChipPorts implements BytePorts {
        private final Pic8259 chip;

        ChipPorts(Pic8259 chip) {
            this.chip = chip;
        }

        @Override
        public int registerCount() {
            return 2;
        }

        @Override
        public int readByte(int offset) {
            lock.lock();
            try {
                if (offset == 1) return chip.readData();
                boolean polled = chip.pollArmed();
                int value = chip.readCommand();
                if (polled && chip == slave && (value & 0x80) != 0) master.clearRequest(CASCADE);
                if (polled) update();
                return value;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void writeByte(int offset, int value) {
            lock.lock();
            try {
                if (offset == 0) chip.writeCommand(value);
                else chip.writeData(value);
                update();
            } finally {
                lock.unlock();
            }
        }
    }

    private final class ElcrPorts implements BytePorts {
        @Override
        public int registerCount() {
            return 2;
        }

        @Override
        public int readByte(int offset) {
            lock.lock();
            try {
                return (offset == 0 ? master : slave).elcr();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void writeByte(int offset, int value) {
            lock.lock();
            try {
                (offset == 0 ? master : slave).setElcr(value);
                update();
            } finally {
                lock.unlock();
            }
        }
    }
}
