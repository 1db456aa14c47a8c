package org.jhyve.devices.uart;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Posix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's output to a non-blocking file descriptor (O_NONBLOCK: a FIFO, a terminal, a pseudo-terminal),
 * so that a reader that stops never stalls a vCPU in write(2), where nothing could end it: closing an fd does
 * not wake a write blocked on it. When the fd is full (write says EAGAIN), per {@link WhenFull}:
 * <ul>
 * <li>{@code HOLD}: the bytes wait in a buffer of one transmit FIFO (16 bytes), {@link #canTransmit} is false so
 *     the UART shows a full transmitter, and a drain thread writes them once the fd has room and calls the ready
 *     callback: a slow line. A byte beyond the buffer (a guest writing while THRE is clear) is dropped.</li>
 * <li>{@code DROP}: the byte is dropped, as on a line nobody listens to.</li>
 * </ul>
 * Dropped bytes are counted ({@link #dropped}) and reported through a {@link GuestErrorLog}.
 *
 * <p>Threads: {@link #transmit} on vCPU threads, {@link #canTransmit} under the UART's lock (a volatile read),
 * the ready callback on the drain thread, {@link #close} from any thread. The caller owns the fd and closes it
 * after {@link #close}.
 */
final class FdTransmitter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FdTransmitter.class);
    private static final int POLL_MILLIS = 100;

    enum WhenFull { HOLD, DROP }

    private final int fd;
    private final String name;
    private final WhenFull whenFull;
    private final GuestErrorLog drops;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment held = arena.allocate(Uart16550.FIFO_SIZE); // guarded by this
    private int heldCount;                                                  // guarded by this
    private boolean closed;                                                 // guarded by this
    private volatile boolean full;
    private final AtomicLong dropped = new AtomicLong();
    private volatile Runnable ready = () -> { };
    private final Thread drainer;

    /** {@code fd} must be O_NONBLOCK; {@code name} is for the log. */
    FdTransmitter(int fd, String name, WhenFull whenFull) {
        this.fd = fd;
        this.name = name;
        this.whenFull = whenFull;
        this.drops = new GuestErrorLog(log, "serial " + name);
        this.drainer = whenFull == WhenFull.HOLD
                ? Thread.ofPlatform().daemon().name("jhyve-serial-drain-" + name).start(this::drain)
                : null;
    }

    synchronized void transmit(byte b) {
        if (closed) return;
        if (heldCount > 0) { // full: behind the bytes already held, up to a FIFO's worth
            if (heldCount == Uart16550.FIFO_SIZE) {
                drop("the guest wrote THR while the transmitter was full (THRE clear); byte dropped");
                return;
            }
            held.set(ValueLayout.JAVA_BYTE, heldCount++, b);
            return;
        }
        held.set(ValueLayout.JAVA_BYTE, 0, b);
        try {
            if (Posix.write(fd, held, 1) == 1) return;
        } catch (IOException e) {
            log.debug("{}: {}", name, e.getMessage());
            return;
        }
        if (whenFull == WhenFull.DROP) {
            drop("nobody reads the other end; the guest's output is dropped until someone does");
            return;
        }
        heldCount = 1;
        full = true;
        notifyAll(); // the drainer waits for held bytes
    }

    private void drop(String why) {
        dropped.incrementAndGet();
        drops.report("%s", why);
    }

    /** Drain thread: waits for held bytes, then for room in the fd, writes them and frees the transmitter. */
    private void drain() {
        try {
            while (true) {
                synchronized (this) {
                    while (heldCount == 0 && !closed) wait();
                    if (closed) return;
                }
                if (Posix.poll(fd, Libc.POLLOUT, POLL_MILLIS) == 0) continue;
                boolean freed = false;
                synchronized (this) {
                    if (closed) return;
                    int n = (int) Posix.write(fd, held, heldCount);
                    if (n > 0) {
                        MemorySegment.copy(held, n, held, 0, heldCount - n);
                        heldCount -= n;
                    }
                    if (heldCount == 0) {
                        full = false;
                        freed = true;
                    }
                }
                if (freed) ready.run(); // outside this lock: it takes the UART's
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.warn("serial {}: output stopped: {}", name, e.getMessage());
        }
    }

    /** Whether a FIFO's worth can be taken now; a volatile read, fit for the UART's lock. */
    boolean canTransmit() {
        return !full;
    }

    void onReady(Runnable callback) {
        this.ready = callback;
    }

    /** Bytes dropped: beyond the held FIFO's worth ({@code HOLD}), or while the fd was full ({@code DROP}). */
    long dropped() {
        return dropped.get();
    }

    /** Stops transmitting; held bytes are forgotten. The fd stays open for its owner to close. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
            notifyAll();
        }
        if (drainer != null) {
            try {
                drainer.join(2 * POLL_MILLIS + 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        arena.close();
    }
}
