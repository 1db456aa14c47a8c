package org.jhyve.irqchip;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.bus.BusDevice;

/**
 * The 82093AA I/O APIC: 24 interrupt pins, each routed by a 64-bit redirection entry to an {@link ApicMessage}
 * on the {@link InterruptRouter}. Registered on the MMIO bus at 0xFEC00000 (IOREGSEL at 0x00, IOWIN at 0x10,
 * the version-0x20 EOI register at 0x40).
 *
 * <p>Pins take the asserted level, not the wire's: jhyve's devices drive {@code true} for "interrupt", so the
 * polarity bit is kept for the guest to read back and does not invert anything, as in KVM's and xhyve's IOAPICs
 * (an inverting one would interrupt forever on every idle active-low pin the guest unmasks).
 *
 * <p>Edge pins deliver on a rising edge, if unmasked (an edge on a masked pin
 * is lost, as the datasheet says). Level pins deliver while asserted, unmasked and with remote IRR clear, and set
 * remote IRR; an EOI for the vector (from the local APICs through {@link #endOfInterrupt}, or the EOI register)
 * clears it and delivers again if the pin is still asserted.
 *
 * <p>Threading rules: every method from any thread at once; one lock guards the registers and the pins. The
 * router is never called with that lock held, because a router may call back synchronously (a local APIC that
 * takes the message and at once EOIs it ends up in {@link #endOfInterrupt}): messages decided under the lock are
 * delivered after it is released, so two deliveries racing from two threads may reach the router in either order,
 * as on a real APIC bus.
 */
public final class IoApic implements BusDevice {
    public static final long DEFAULT_BASE = 0xFEC0_0000L;
    public static final long MMIO_SIZE = 0x1000;
    public static final int PINS = 24;

    static final int IOREGSEL = 0x00;
    static final int IOWIN = 0x10;
    static final int EOI = 0x40;

    static final int REG_ID = 0x00;
    static final int REG_VERSION = 0x01;
    static final int REG_ARBITRATION = 0x02;
    static final int REG_REDIRECTION = 0x10;
    /** Maximum redirection entry 23 (bits 23:16), version 0x20. */
    static final int VERSION = 0x0017_0020;

    private final InterruptRouter router;
    private final ReentrantLock lock = new ReentrantLock();
    private final RedirectionEntry[] entries = new RedirectionEntry[PINS];
    /** Whether each pin is asserted, as its device drives it. */
    private final boolean[] pinLevel = new boolean[PINS];
    private int select;
    private int id;

    public IoApic(InterruptRouter router) {
        this.router = router;
        for (int i = 0; i < PINS; i++) entries[i] = new RedirectionEntry();
    }

    /** Asserts ({@code true}) or deasserts pin {@code pin}; pins out of range are ignored. */
    public void setPin(int pin, boolean level) {
        if (pin < 0 || pin >= PINS) return;
        ApicMessage message = null;
        lock.lock();
        try {
            RedirectionEntry e = entries[pin];
            boolean wasActive = active(pin);
            pinLevel[pin] = level;
            boolean active = active(pin);
            if (e.levelTriggered()) {
                message = levelDelivery(pin);
            } else if (active && !wasActive && !e.masked()) {
                message = e.message();
            }
        } finally {
            lock.unlock();
        }
        if (message != null) router.deliver(message);
    }

    /**
     * A local APIC EOIed {@code vector}: clears remote IRR of every level pin routed to it and delivers again those
     * still asserted and unmasked.
     */
    public void endOfInterrupt(int vector) {
        List<ApicMessage> messages = new ArrayList<>(1);
        lock.lock();
        try {
            for (int pin = 0; pin < PINS; pin++) {
                RedirectionEntry e = entries[pin];
                if (e.levelTriggered() && e.remoteIrr && e.vector() == (vector & 0xFF)) {
                    e.remoteIrr = false;
                    ApicMessage m = levelDelivery(pin);
                    if (m != null) messages.add(m);
                }
            }
        } finally {
            lock.unlock();
        }
        messages.forEach(router::deliver);
    }

    @Override
    public long read(long offset, int size) {
        if (offset == IOREGSEL) {
            lock.lock();
            try {
                return select;
            } finally {
                lock.unlock();
            }
        }
        if (offset == IOWIN) {
            lock.lock();
            try {
                return readRegister(select) & 0xFFFF_FFFFL;
            } finally {
                lock.unlock();
            }
        }
        return 0; // the EOI register is write-only; everything else is not decoded
    }

    @Override
    public void write(long offset, int size, long value) {
        int v = (int) value;
        if (offset == IOREGSEL) {
            lock.lock();
            try {
                select = v & 0xFF;
            } finally {
                lock.unlock();
            }
        } else if (offset == IOWIN) {
            ApicMessage message;
            lock.lock();
            try {
                message = writeRegister(select, v);
            } finally {
                lock.unlock();
            }
            if (message != null) router.deliver(message);
        } else if (offset == EOI) {
            endOfInterrupt(v & 0xFF);
        }
    }

    private int readRegister(int register) {
        return switch (register) {
            case REG_ID, REG_ARBITRATION -> id;
            case REG_VERSION -> VERSION;
            default -> {
                int pin = (register - REG_REDIRECTION) >> 1;
                if (register < REG_REDIRECTION || pin >= PINS) yield 0;
                RedirectionEntry e = entries[pin];
                yield (register & 1) == 0 ? e.low() : e.high;
            }
        };
    }

    /** Returns the message the write makes due (an unmasked, asserted level pin), or null. */
    private ApicMessage writeRegister(int register, int value) {
        if (register == REG_ID) {
            id = value & 0x0F00_0000;
            return null;
        }
        int pin = (register - REG_REDIRECTION) >> 1;
        if (register < REG_REDIRECTION || pin >= PINS) return null;
        RedirectionEntry e = entries[pin];
        if ((register & 1) == 1) {
            e.high = value & RedirectionEntry.HIGH_WRITABLE;
            return null;
        }
        e.setLow(value);
        return e.levelTriggered() ? levelDelivery(pin) : null;
    }

    /** Level pin: the message due now (and remote IRR set for it), or null. Called with the lock held. */
    private ApicMessage levelDelivery(int pin) {
        assert lock.isHeldByCurrentThread();
        RedirectionEntry e = entries[pin];
        if (!active(pin) || e.masked() || e.remoteIrr) return null;
        e.remoteIrr = true;
        return e.message();
    }

    private boolean active(int pin) {
        return pinLevel[pin];
    }

    /** One redirection entry's state; guarded by the IOAPIC's lock. */
    private static final class RedirectionEntry {
        static final int VECTOR = 0xFF;
        static final int DESTINATION_LOGICAL = 1 << 11;
        static final int ACTIVE_LOW = 1 << 13;
        static final int REMOTE_IRR = 1 << 14;
        static final int LEVEL = 1 << 15;
        static final int MASK = 1 << 16;
        /** Vector, delivery mode, destination mode, polarity, trigger mode, mask: remote IRR and status are read-only. */
        static final int LOW_WRITABLE = VECTOR | 0x700 | DESTINATION_LOGICAL | ACTIVE_LOW | LEVEL | MASK;
        static final int HIGH_WRITABLE = 0xFF00_0000;

        int lowBits = MASK; // reset: masked, edge, vector 0
        int high;
        boolean remoteIrr;

        int low() {
            return lowBits | (remoteIrr ? REMOTE_IRR : 0);
        }

        void setLow(int value) {
            lowBits = value & LOW_WRITABLE;
            if (!levelTriggered()) remoteIrr = false; // an edge pin has no remote IRR
        }

        int vector() {
            return lowBits & VECTOR;
        }

        boolean masked() {
            return (lowBits & MASK) != 0;
        }

        boolean levelTriggered() {
            return (lowBits & LEVEL) != 0;
        }


        ApicMessage message() {
            return ApicMessage.fromDevice(high >>> 24, (lowBits & DESTINATION_LOGICAL) != 0,
                    DeliveryMode.of(lowBits >> 8), vector(), levelTriggered());
        }
    }
}
