package org.jhyve.devices.uart;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.devices.log.GuestErrorLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's output to a stream whose writes block (jhyve's own standard output, which jhyve must not make
 * non-blocking: the file description is shared with the shell that started it), written by a thread of its own,
 * so that a reader that stops (a pipe nobody drains) stalls that thread and never a vCPU, and output leaves in
 * batches rather than a write(2) per byte. At most {@link #CAPACITY} bytes wait. With less than a transmit FIFO's
 * worth of room left {@link #canTransmit} is false, so the UART shows a full transmitter as on a slow line, until
 * the writer has drained half of it and runs the ready callback. A byte written while full is dropped and counted.
 *
 * <p>Threads: {@link #transmit} on vCPU threads; {@link #canTransmit} under the UART's lock (a volatile read); the
 * ready callback on the writer thread, never under this object's lock; {@link #close} from any thread. The caller
 * owns the stream.
 */
final class ThreadedOutput implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ThreadedOutput.class);
    static final int CAPACITY = 64 * 1024;
    /** How long {@link #close} lets the writer finish what the guest wrote last (its goodbye, say). */
    static final Duration DRAIN_AT_CLOSE = Duration.ofSeconds(2);
    private static final int BATCH = 4096;

    private final OutputStream out;
    private final GuestErrorLog drops;
    private final byte[] ring = new byte[CAPACITY]; // guarded by this
    private int head, count;                        // guarded by this
    private boolean closed;                         // guarded by this
    private volatile boolean full;
    private volatile Runnable ready = () -> { };
    private final AtomicLong dropped = new AtomicLong();
    private final Thread writer;

    ThreadedOutput(OutputStream out, String name) {
        this.out = out;
        this.drops = new GuestErrorLog(log, "serial " + name);
        this.writer = Thread.ofPlatform().daemon().name("jhyve-serial-out-" + name).start(this::drain);
    }

    synchronized void transmit(byte b) {
        if (closed) return;
        if (count == CAPACITY) {
            dropped.incrementAndGet();
            drops.report("output dropped: %d bytes wait for a reader that does not read", CAPACITY);
            return;
        }
        ring[(head + count) % CAPACITY] = b;
        count++;
        if (count > CAPACITY - Uart16550.FIFO_SIZE) full = true;
        if (count == 1) notifyAll();
    }

    boolean canTransmit() { return !full; }

    void onTransmitReady(Runnable ready) { this.ready = ready; }

    /** Bytes dropped because the reader did not keep up and the guest wrote into a full transmitter. */
    long dropped() { return dropped.get(); }

    private void drain() {
        byte[] batch = new byte[BATCH];
        while (true) {
            int n;
            synchronized (this) {
                while (count == 0 && !closed) awaitUninterruptibly();
                if (count == 0) return;
                n = Math.min(count, Math.min(BATCH, CAPACITY - head));
                System.arraycopy(ring, head, batch, 0, n);
            }
            try {
                out.write(batch, 0, n);
                out.flush();
            } catch (IOException e) {
                // The reader went away (EPIPE): what the guest writes from now on goes nowhere, as on an unplugged line.
                log.debug("serial output: {}", e.getMessage());
            }
            boolean freed;
            synchronized (this) {
                head = (head + n) % CAPACITY;
                count -= n;
                freed = full && count <= CAPACITY / 2;
                if (freed) full = false;
                if (count == 0) notifyAll(); // close may wait for the last bytes
            }
            if (freed) ready.run();
        }
    }

    private void awaitUninterruptibly() {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops taking bytes, lets the writer finish those waiting for up to {@link #DRAIN_AT_CLOSE}, and ends it. */
    @Override
    public void close() {
        long deadline = System.nanoTime() + DRAIN_AT_CLOSE.toNanos();
        synchronized (this) {
            closed = true;
            notifyAll();
            while (count > 0) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    log.debug("serial output: {} bytes not written at close: the reader does not read", count);
                    break;
                }
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
    }
}
