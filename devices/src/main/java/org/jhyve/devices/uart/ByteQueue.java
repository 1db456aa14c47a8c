package org.jhyve.devices.uart;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded byte ring between two threads, seen through a stream at each end, for {@link SerialConsole}.
 * Reads wait for bytes; once the queue is closed they drain what is left and then see end of stream.
 * When full, a write either drops the oldest byte and counts it (the guest's output: a vCPU must never
 * wait for a reader that may never come) or waits for room (input typed into the guest).
 *
 * <p>Not java.io.PipedInputStream: that one remembers its reader and writer threads and fails ("Write end
 * dead") once the thread that wrote has ended, and a vCPU thread ends with its VM.
 */
final class ByteQueue {
    private final byte[] ring;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int head;
    private int count;
    private long dropped;
    private boolean closed;

    ByteQueue(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        ring = new byte[capacity];
    }

    /** Appends {@code b}, first dropping the oldest byte when full; ignored once closed. Never waits. */
    void putDroppingOldest(byte b) {
        lock.lock();
        try {
            if (closed) return;
            if (count == ring.length) {
                head = (head + 1) % ring.length;
                count--;
                dropped++;
            }
            ring[(head + count++) % ring.length] = b;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Appends {@code data[off, off+len)}, waiting for room; fails once closed. */
    void put(byte[] data, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, data.length);
        lock.lock();
        try {
            for (int i = 0; i < len; ) {
                while (count == ring.length && !closed) changed.await();
                if (closed) throw new IOException("serial console closed");
                while (i < len && count < ring.length) ring[(head + count++) % ring.length] = data[off + i++];
                changed.signalAll();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted writing to the serial console");
        } finally {
            lock.unlock();
        }
    }

    /** Moves 1 to {@code len} bytes into {@code into}, waiting for the first; -1 once closed and empty. */
    int take(byte[] into, int off, int len) throws InterruptedIOException {
        Objects.checkFromIndexSize(off, len, into.length);
        if (len == 0) return 0;
        lock.lock();
        try {
            while (count == 0 && !closed) changed.await();
            if (count == 0) return -1;
            int n = Math.min(len, count);
            for (int i = 0; i < n; i++) {
                into[off + i] = ring[head];
                head = (head + 1) % ring.length;
            }
            count -= n;
            changed.signalAll();
            return n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted reading the serial console");
        } finally {
            lock.unlock();
        }
    }

    int available() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes {@link #putDroppingOldest} has dropped to make room. */
    long dropped() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** Ends the queue: waiting readers and writers wake; {@code discard} also forgets the unread bytes. */
    void close(boolean discard) {
        lock.lock();
        try {
            closed = true;
            if (discard) count = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The reading end. Closing it discards what is unread: nobody is left to read it. */
    InputStream reader() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return take(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return take(b, off, len);
            }

            @Override
            public int available() {
                return ByteQueue.this.available();
            }

            @Override
            public void close() {
                ByteQueue.this.close(true);
            }
        };
    }

    /**
     * A writing end. Closing it ends the queue after what was written, so the reader drains it first.
     * {@code dropOldest} picks {@link #putDroppingOldest} over the waiting {@link #put}.
     */
    OutputStream writer(boolean dropOldest) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                if (dropOldest) putDroppingOldest((byte) b);
                else put(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (!dropOldest) {
                    put(b, off, len);
                    return;
                }
                Objects.checkFromIndexSize(off, len, b.length);
                for (int i = 0; i < len; i++) putDroppingOldest(b[off + i]);
            }

            @Override
            public void close() {
                ByteQueue.this.close(false);
            }
        };
    }
}
