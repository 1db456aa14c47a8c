package org.jhyve.devices.uart;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded buffer between a backend's reader and the UART's receive FIFO. Readers block in
 * {@link #put} when it is full (back-pressure reaches the host side: the terminal, pty or socket stops
 * being read), and bytes move into the UART whenever it has room, so no input is dropped.
 */
public final class SerialInput {
    public static final int CAPACITY = 4096;

    private final Uart16550 uart;
    private final byte[] ring = new byte[CAPACITY];
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition space = lock.newCondition();
    private int head;
    private int count;
    private boolean closed;

    public SerialInput(Uart16550 uart) {
        this.uart = uart;
        uart.onSpaceAvailable(this::pump);
    }

    /** Queues {@code data[off, off+len)}, waiting for room as needed; returns false if closed meanwhile. */
    public boolean put(byte[] data, int off, int len) throws InterruptedException {
        int done = 0;
        while (done < len) {
            lock.lock();
            try {
                while (count == CAPACITY && !closed) space.await();
                if (closed) return false;
                while (done < len && count < CAPACITY) {
                    ring[(head + count) % CAPACITY] = data[off + done++];
                    count++;
                }
            } finally {
                lock.unlock();
            }
            pump();
        }
        return true;
    }

    /** Bytes queued but not yet in the UART. */
    public int queued() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }

    /** Moves queued bytes into the UART while it accepts them. */
    void pump() {
        lock.lock();
        try {
            while (count > 0 && uart.receive(ring[head])) {
                head = (head + 1) % CAPACITY;
                count--;
            }
            if (count < CAPACITY) space.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes and fails any blocked {@link #put}. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            space.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
