package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A non-blocking, close-on-exec Linux eventfd: a 64-bit counter that {@link #signal} adds to and {@link #take}
 * takes and resets. KVM signals one for an ioeventfd and waits on one for an irqfd; a tap's receive thread
 * polls one to be woken.
 *
 * <p>Failures are unchecked ({@link UncheckedIOException} around an {@link ErrnoException}): on an open
 * eventfd neither a signal nor a take can fail but through a programming error.
 *
 * <p>Threading: any thread may signal, take and wait, concurrently; the calls allocate nothing (each uses the
 * calling thread's {@link Scratch}). {@link #close} must not race with the others: once the descriptor is
 * closed its number may belong to another file, so an owner that closes while others may still signal keeps
 * them apart with a lock of its own.
 */
public final class EventFd implements AutoCloseable {
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    public EventFd() {
        Scratch s = Scratch.ofThisThread();
        int fd = Libc.eventfd(s, 0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (fd < 0) throw failed("eventfd", null, s.errno());
        this.fd = fd;
    }

    /** The file descriptor, for registering with KVM or polling with others. */
    public int fd() {
        return fd;
    }

    /** Adds {@code value} (positive) to the counter, waking whoever waits on it. */
    public void signal(long value) {
        if (value <= 0) throw new IllegalArgumentException("eventfd increment must be positive: " + value);
        Scratch s = Scratch.ofThisThread();
        MemorySegment counter = s.structs();
        counter.set(JAVA_LONG, 0, value);
        while (true) {
            long n = Libc.write(s, fd, counter, Long.BYTES);
            if (n == Long.BYTES) return;
            if (n < 0 && s.errno() == Errno.EINTR) continue;
            throw failed("write", "eventfd " + fd, n < 0 ? s.errno() : 0);
        }
    }

    /** The counter's value, resetting it to zero; 0 when nothing was signalled since the last take. */
    public long take() {
        Scratch s = Scratch.ofThisThread();
        MemorySegment counter = s.structs();
        while (true) {
            long n = Libc.read(s, fd, counter, Long.BYTES);
            if (n == Long.BYTES) return counter.get(JAVA_LONG, 0);
            if (n < 0 && s.errno() == Errno.EAGAIN) return 0;
            if (n < 0 && s.errno() == Errno.EINTR) continue;
            throw failed("read", "eventfd " + fd, n < 0 ? s.errno() : 0);
        }
    }

    /** {@link #take}, empty instead of 0. */
    public OptionalLong tryRead() {
        long value = take();
        return value == 0 ? OptionalLong.empty() : OptionalLong.of(value);
    }

    /** Waits up to {@code timeoutMillis} (-1: no limit) until the counter is non-zero; false on timeout or EINTR. */
    public boolean awaitReadable(int timeoutMillis) {
        try {
            return (Posix.poll(fd, Libc.POLLIN, timeoutMillis) & Libc.POLLIN) != 0;
        } catch (ErrnoException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes the descriptor; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        int err = Posix.closeQuietly(fd);
        if (err != 0) throw failed("close", "eventfd " + fd, err);
    }

    private static UncheckedIOException failed(String function, String subject, int errno) {
        return new UncheckedIOException(new ErrnoException(function, subject, errno));
    }
}
