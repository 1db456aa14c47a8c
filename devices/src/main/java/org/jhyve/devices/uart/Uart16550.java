package org.jhyve.devices.uart;

import java.util.ArrayDeque;
import org.jhyve.bus.BusDevice;
import org.jhyve.irq.IrqLine;

/**
 * The 16550A UART's registers, knowing no bus: eight ports relative to its base, an interrupt line, a byte
 * sink for what the guest transmits and {@link #receive} for what arrives. Transmission is instant (THR
 * and the shift register are empty again right after a write), so THRE and TEMT read as set, except while
 * the sink says it is not {@linkplain Transmitter#ready ready} (a slow line: a socket client that stops
 * reading): then they read clear, and the THRE interrupt waits, until {@link #transmitterReady}. A guest that
 * writes THR anyway is the sink's to handle, as a real chip overruns; the receive side holds a 16-byte FIFO (one byte with FIFOs off) and never drops input:
 * {@link #receive} refuses a byte when full and {@code spaceAvailable} runs when the guest makes room.
 *
 * <p>Simplification: the character-timeout interrupt is reported whenever the FIFO holds data below
 * its trigger level (a real chip waits four character times first); drivers treat both the same way.
 */
public final class Uart16550 implements BusDevice {
    public static final int RBR_THR_DLL = 0, IER_DLM = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
    public static final int REGISTER_COUNT = 8;

    static final int IER_RX_DATA = 0x01, IER_THR_EMPTY = 0x02, IER_LINE_STATUS = 0x04, IER_MODEM_STATUS = 0x08;
    static final int IIR_NONE = 0x01, IIR_MODEM = 0x00, IIR_THR_EMPTY = 0x02, IIR_RX_DATA = 0x04, IIR_LINE = 0x06,
            IIR_TIMEOUT = 0x0c, IIR_FIFOS_ENABLED = 0xc0;
    static final int FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02;
    static final int LCR_DLAB = 0x80;
    static final int MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOPBACK = 0x10;
    static final int LSR_DATA_READY = 0x01, LSR_OVERRUN = 0x02, LSR_THR_EMPTY = 0x20, LSR_TX_EMPTY = 0x40, LSR_ERRORS = 0x1e;
    static final int MSR_DELTAS = 0x0f, MSR_TERI = 0x04, MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;
    static final int FIFO_SIZE = 16;

    /** Where transmitted bytes go. */
    @FunctionalInterface
    public interface Transmitter {
        void transmit(byte b);

        /**
         * Whether a FIFO's worth of bytes can be taken now. Called under the UART's lock: must not block or call
         * back into the UART. Once it turns true again the sink calls {@link #transmitterReady}.
         */
        default boolean ready() {
            return true;
        }
    }

    private final IrqLine irq;
    private final Transmitter transmitter;
    private final ArrayDeque<Byte> rxFifo = new ArrayDeque<>(FIFO_SIZE);
    private Runnable spaceAvailable = () -> { };

    private int ier;
    private int lcr = 0x03; // 8N1 is what firmware leaves behind
    private int mcr;
    private int lsrErrors;
    private int msr = MSR_CTS | MSR_DSR | MSR_DCD; // an attached, ready terminal
    private int scr;
    private int dll = 1; // 115200 baud
    private int dlm;
    private boolean fifoEnabled;
    private int triggerLevel = 1;
    /** THRE is an interrupt source until the guest reads IIR while it is the top source, or writes THR. */
    private boolean thrEmptyPending;
    private boolean irqAsserted;

    public Uart16550(IrqLine irq, Transmitter transmitter) {
        this.irq = irq;
        this.transmitter = transmitter;
    }

    /** Runs (outside the UART's lock) each time the guest reads a byte and the receiver has room again. */
    public void onSpaceAvailable(Runnable callback) {
        this.spaceAvailable = callback;
    }

    /**
     * A byte from the outside world. Returns false, keeping nothing, when the receive FIFO is full or the
     * UART is in loopback (then the receiver listens only to its own transmitter).
     */
    public synchronized boolean receive(byte b) {
        if ((mcr & MCR_LOOPBACK) != 0 || rxFifo.size() >= capacity()) return false;
        rxFifo.add(b);
        updateInterrupt();
        return true;
    }

    /** The transmitter's sink can take bytes again: THRE and TEMT read set, and a pending THRE interrupt is raised. */
    public synchronized void transmitterReady() {
        updateInterrupt();
    }

    /** True when {@link #receive} would accept a byte now. */
    public synchronized boolean canReceive() {
        return room() > 0;
    }

    private int capacity() {
        return fifoEnabled ? FIFO_SIZE : 1;
    }

    @Override
    public long read(long offset, int size) {
        boolean madeRoom;
        long value;
        synchronized (this) {
            int before = rxFifo.size();
            value = readRegister((int) offset);
            madeRoom = rxFifo.size() < before;
            updateInterrupt();
        }
        if (madeRoom) spaceAvailable.run();
        return value;
    }

    private int readRegister(int reg) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        return switch (reg) {
            case RBR_THR_DLL -> dlab ? dll : receiveBufferRead();
            case IER_DLM -> dlab ? dlm : ier;
            case IIR_FCR -> interruptIdentificationRead();
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> {
                int v = lineStatus();
                lsrErrors = 0; // error bits clear on read
                yield v;
            }
            case MSR -> {
                int v = modemStatus();
                msr &= ~MSR_DELTAS; // delta bits clear on read
                yield v;
            }
            case SCR -> scr;
            default -> 0xff;
        };
    }

    private int receiveBufferRead() {
        Byte b = rxFifo.poll();
        return b == null ? 0 : b & 0xff;
    }

    private int interruptIdentificationRead() {
        int id = pendingInterrupt();
        if (id == IIR_THR_EMPTY) thrEmptyPending = false; // reading IIR acknowledges THRE
        return id | (fifoEnabled ? IIR_FIFOS_ENABLED : 0);
    }

    private int lineStatus() {
        int v = lsrErrors;
        if (transmitterFree()) v |= LSR_THR_EMPTY | LSR_TX_EMPTY;
        if (!rxFifo.isEmpty()) v |= LSR_DATA_READY;
        return v;
    }

    /** In loopback the transmitter feeds the receiver, never the sink, so only outside it can the line be full. */
    private boolean transmitterFree() {
        return (mcr & MCR_LOOPBACK) != 0 || transmitter.ready();
    }

    private int modemStatus() {
        if ((mcr & MCR_LOOPBACK) == 0) return msr;
        return (msr & MSR_DELTAS) | loopbackLines(mcr);
    }

    /** In loopback the modem inputs follow the modem outputs: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD. */
    private static int loopbackLines(int mcr) {
        int v = 0;
        if ((mcr & MCR_DTR) != 0) v |= MSR_DSR;
        if ((mcr & MCR_RTS) != 0) v |= MSR_CTS;
        if ((mcr & MCR_OUT1) != 0) v |= MSR_RI;
        if ((mcr & MCR_OUT2) != 0) v |= MSR_DCD;
        return v;
    }

    @Override
    public void write(long offset, int size, long value) {
        Byte toSend;
        boolean madeRoom;
        synchronized (this) {
            int roomBefore = room();
            toSend = writeRegister((int) offset, (int) value & 0xff);
            updateInterrupt();
            // Enabling or clearing the FIFOs and leaving loopback make room too; input queued meanwhile
            // would otherwise wait for the next byte from the host.
            madeRoom = room() > roomBefore;
        }
        if (madeRoom) spaceAvailable.run();
        if (toSend != null) transmitter.transmit(toSend); // outside the lock: a backend may block briefly
    }

    /** How many bytes {@link #receive} would take now. */
    private int room() {
        return (mcr & MCR_LOOPBACK) != 0 ? 0 : capacity() - rxFifo.size();
    }

    /** Applies a register write; returns the byte to transmit, if any. */
    private Byte writeRegister(int reg, int v) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (reg) {
            case RBR_THR_DLL -> {
                if (dlab) {
                    dll = v;
                    return null;
                }
                thrEmptyPending = true; // transmitted at once, so THR is empty again
                if ((mcr & MCR_LOOPBACK) != 0) {
                    if (rxFifo.size() >= capacity()) lsrErrors |= LSR_OVERRUN;
                    else rxFifo.add((byte) v);
                    return null;
                }
                return (byte) v;
            }
            case IER_DLM -> {
                if (dlab) {
                    dlm = v;
                } else {
                    // Enabling the THRE interrupt while THR is empty raises it at once (16550A datasheet).
                    if ((v & IER_THR_EMPTY) != 0 && (ier & IER_THR_EMPTY) == 0) thrEmptyPending = true;
                    ier = v & 0x0f;
                }
            }
            case IIR_FCR -> fifoControl(v);
            case LCR -> lcr = v;
            case MCR -> modemControl(v & 0x1f);
            case SCR -> scr = v;
            default -> { } // LSR and MSR are read-only
        }
        return null;
    }

    private void fifoControl(int v) {
        boolean enable = (v & FCR_ENABLE) != 0;
        if (enable != fifoEnabled || (v & FCR_CLEAR_RX) != 0) rxFifo.clear(); // switching modes empties the FIFOs
        fifoEnabled = enable;
        triggerLevel = switch (v >>> 6) {
            case 0 -> 1;
            case 1 -> 4;
            case 2 -> 8;
            default -> 14;
        };
    }

    private void modemControl(int v) {
        int oldLines = modemStatus() & ~MSR_DELTAS;
        boolean wasLoopback = (mcr & MCR_LOOPBACK) != 0;
        mcr = v;
        int newLines = modemStatus() & ~MSR_DELTAS;
        if ((mcr & MCR_LOOPBACK) != 0 || wasLoopback) {
            int changed = oldLines ^ newLines;
            if ((changed & MSR_CTS) != 0) msr |= 0x01;
            if ((changed & MSR_DSR) != 0) msr |= 0x02;
            if ((oldLines & MSR_RI) != 0 && (newLines & MSR_RI) == 0) msr |= MSR_TERI; // trailing edge of RI
            if ((changed & MSR_DCD) != 0) msr |= 0x08;
        }
    }

    /** The highest-priority pending interrupt's IIR code, or IIR_NONE. */
    private int pendingInterrupt() {
        if ((ier & IER_LINE_STATUS) != 0 && lsrErrors != 0) return IIR_LINE;
        if ((ier & IER_RX_DATA) != 0 && !rxFifo.isEmpty()) {
            if (!fifoEnabled || rxFifo.size() >= triggerLevel) return IIR_RX_DATA;
            return IIR_TIMEOUT;
        }
        if ((ier & IER_THR_EMPTY) != 0 && thrEmptyPending && transmitterFree()) return IIR_THR_EMPTY;
        if ((ier & IER_MODEM_STATUS) != 0 && (msr & MSR_DELTAS) != 0) return IIR_MODEM;
        return IIR_NONE;
    }

    /** Drives the line: asserted while an interrupt is pending and OUT2 gates it onto the bus (as on PCs). */
    private void updateInterrupt() {
        boolean assert_ = pendingInterrupt() != IIR_NONE && (mcr & MCR_OUT2) != 0;
        if (assert_ != irqAsserted) {
            irqAsserted = assert_;
            irq.set(assert_);
        }
    }
}
