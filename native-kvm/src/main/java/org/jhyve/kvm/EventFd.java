package org.jhyve.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A non-blocking, close-on-exec Linux eventfd: a 64-bit counter that {@link #signal} adds to and
 * {@link #tryRead} takes and resets. KVM signals it for an ioeventfd and waits on it for an irqfd.
 */
public final class EventFd implements AutoCloseable {
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    public EventFd() {
        this.fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
    }

    /** The file descriptor, for registering with KVM or a poller. */
    public int fd() {
        return fd;
    }

    /** Adds {@code value} (positive) to the counter, waking whoever waits on it. */
    public void signal(long value) {
        if (value <= 0) throw new IllegalArgumentException("eventfd increment must be positive: " + value);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(arena);
            MemorySegment buf = arena.allocate(ValueLayout.JAVA_LONG);
            buf.set(ValueLayout.JAVA_LONG, 0, value);
            while (true) {
                long n = Libc.rawWrite(state, fd, buf);
                if (n == Long.BYTES) return;
                int err = Libc.errno(state);
                if (n < 0 && err == Libc.EINTR) continue;
                throw NativeErrors.callFailed("write(eventfd " + fd + ")", n < 0 ? err : 0);
            }
        }
    }

    /** The counter's value, resetting it to zero; empty when it is zero (nothing signalled since the last read). */
    public OptionalLong tryRead() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(arena);
            MemorySegment buf = arena.allocate(ValueLayout.JAVA_LONG);
            while (true) {
                long n = Libc.rawRead(state, fd, buf);
                if (n == Long.BYTES) return OptionalLong.of(buf.get(ValueLayout.JAVA_LONG, 0));
                int err = Libc.errno(state);
                if (n < 0 && err == Libc.EAGAIN) return OptionalLong.empty();
                if (n < 0 && err == Libc.EINTR) continue;
                throw NativeErrors.callFailed("read(eventfd " + fd + ")", n < 0 ? err : 0);
            }
        }
    }

    /** Waits up to {@code timeoutMillis} (-1: no limit) until the counter is non-zero; false on timeout or EINTR. */
    public boolean awaitReadable(int timeoutMillis) {
        return (Libc.pollOne(fd, Libc.POLLIN, timeoutMillis) & Libc.POLLIN) != 0;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) Libc.close(fd);
    }
}
