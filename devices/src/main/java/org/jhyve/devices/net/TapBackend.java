package org.jhyve.devices.net;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jhyve.posix.Errno;
import org.jhyve.posix.ErrnoException;
import org.jhyve.posix.EventFd;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Scratch;

/**
 * A Linux tap interface through /dev/net/tun (jhyve's POSIX layer): opened by name (created if it does not exist, which needs
 * CAP_NET_ADMIN), with IFF_VNET_HDR so checksum and TSO offloads pass between guest and host kernel in the
 * 12-byte virtio_net_hdr, and readv/writev straight on guest memory.
 *
 * <p>When the interface goes away under the VM ({@code ip link del}), the kernel detaches this file: poll reports
 * POLLERR and reads and writes fail with EBADFD. Every call then throws {@link IOException} saying so, rather
 * than answering "nothing to read" at once, which would have a receive loop spin. A failed call is an
 * {@link ErrnoException} naming what was done, the call and errno.
 */
public final class TapBackend implements NetBackend {
    private static final int IFF_TAP = 0x0002, IFF_NO_PI = 0x1000, IFF_VNET_HDR = 0x4000;
    private static final int IFF_MULTI_QUEUE = 0x0100, IFF_ATTACH_QUEUE = 0x0200, IFF_DETACH_QUEUE = 0x0400;
    private static final long TUNSETIFF = 0x400454caL, TUNSETOFFLOAD = 0x400454d0L, TUNSETVNETHDRSZ = 0x400454d8L;
    private static final long TUNSETQUEUE = 0x400454d9L;
    static final int TUN_F_CSUM = 0x01, TUN_F_TSO4 = 0x02, TUN_F_TSO6 = 0x04, TUN_F_TSO_ECN = 0x08;
    /** {@code struct ifreq}: the name, then (a union at 16) the flags. */
    private static final long IFREQ_BYTES = 40, IFREQ_FLAGS = 16;
    /** How long a frame to send waits for room in the tap's queue before it is dropped. */
    static final int SEND_WAIT_MILLIS = 100;
    static final int VNET_HEADER = 12;

    /** The most buffers one readv/writev takes (Linux's IOV_MAX); a longer chain is cut. */
    private static final int MAX_IOV = Libc.IOV_MAX;

    /**
     * Native memory for one direction's calls, allocated once: the receive thread (poll, readv) and the
     * transmit worker (writev) each use their own scratch (errno, the pollfds) and iovec array, so the per-frame
     * path allocates nothing. GC-managed rather than closed with the tap, since a thread may still be inside
     * readv when another closes it.
     */
    private record Direction(Scratch scratch, MemorySegment iov) {
        static Direction allocate() {
            return new Direction(Scratch.allocate(), Arena.ofAuto().allocate(Libc.IOVEC_BYTES * MAX_IOV, 8));
        }
    }

    private final String name;
    private final int fd;
    /** Polled with the tap: {@link #wakeReceiver} signals it to end a poll before its timeout. */
    private final EventFd wake;
    /** Keeps the wake eventfd's signals and takes apart from its close (its number may be reused after). */
    private final Object wakeLock = new Object();
    private final Direction receiving = Direction.allocate();
    private final Direction sending = Direction.allocate();
    private volatile boolean closed;

    private TapBackend(String name, int fd, EventFd wake) {
        this.name = name;
        this.fd = fd;
        this.wake = wake;
    }

    /** Attaches to tap interface {@code name}, creating it if it does not exist. */
    public static TapBackend open(String name) throws IOException {
        return open(name, false);
    }

    /**
     * {@code pairs} queues of tap interface {@code name} (IFF_MULTI_QUEUE: the host kernel spreads frames over
     * them by flow), one backend per virtio-net queue pair; one pair is a plain single-queue tap.
     */
    public static List<TapBackend> openQueues(String name, int pairs) throws IOException {
        if (pairs == 1) return List.of(open(name, false));
        List<TapBackend> queues = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < pairs; i++) queues.add(open(name, true));
        } catch (IOException | RuntimeException e) {
            for (TapBackend q : queues) q.close();
            throw e;
        }
        return List.copyOf(queues);
    }

    private static TapBackend open(String name, boolean multiQueue) throws IOException {
        if (name.isEmpty() || name.length() > 15 || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '/')) {
            throw new IOException("'" + name + "' is not a network interface name (1-15 characters)");
        }
        Scratch s = Scratch.ofThisThread();
        try (Arena a = Arena.ofConfined()) {
            int fd = Libc.open(s, a.allocateFrom("/dev/net/tun"), Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0) throw error("/dev/net/tun", "open", s.errno());
            try {
                MemorySegment ifreq = a.allocate(IFREQ_BYTES);
                MemorySegment.copy(name.getBytes(StandardCharsets.US_ASCII), 0, ifreq, JAVA_BYTE, 0, name.length());
                ifreq.set(JAVA_SHORT, IFREQ_FLAGS, (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE : 0)));
                if (Libc.ioctl(s, fd, TUNSETIFF, ifreq) < 0) {
                    int err = s.errno();
                    if (err == Errno.EINVAL && multiQueue) {
                        throw error("attach to tap " + name + " as a multi-queue interface (was it created without multi_queue?)", "TUNSETIFF", err);
                    }
                    throw error(err == Errno.EPERM ? "attach to tap " + name + " (creating an interface needs CAP_NET_ADMIN; or create it first: ip tuntap add dev "
                            + name + " mode tap vnet_hdr user $USER)" : "attach to tap " + name, "TUNSETIFF", err);
                }
                MemorySegment size = a.allocate(JAVA_INT);
                size.set(JAVA_INT, 0, VNET_HEADER);
                if (Libc.ioctl(s, fd, TUNSETVNETHDRSZ, size) < 0) throw error("tap " + name, "TUNSETVNETHDRSZ", s.errno());
                return new TapBackend(name, fd, new EventFd());
            } catch (UncheckedIOException e) { // the wake eventfd: out of descriptors, say
                Libc.close(s, fd);
                throw e.getCause();
            } catch (IOException | RuntimeException e) {
                Libc.close(s, fd);
                throw e;
            }
        }
    }

    @Override public boolean vnetHeader() { return true; }

    @Override
    public long offloadFeatures() {
        return VirtioNetFeatures.OFFLOADS;
    }

    @Override
    public void enableOffloads(long features) throws IOException {
        int flags = 0;
        if ((features & 1L << VirtioNetFeatures.GUEST_CSUM) != 0) {
            flags |= TUN_F_CSUM;
            if ((features & 1L << VirtioNetFeatures.GUEST_TSO4) != 0) flags |= TUN_F_TSO4;
            if ((features & 1L << VirtioNetFeatures.GUEST_TSO6) != 0) flags |= TUN_F_TSO6;
            if ((features & 1L << VirtioNetFeatures.GUEST_ECN) != 0) flags |= TUN_F_TSO_ECN;
        }
        Scratch s = Scratch.ofThisThread();
        if (Libc.ioctl(s, fd, TUNSETOFFLOAD, (long) flags) < 0) throw error("tap " + name, "TUNSETOFFLOAD", s.errno());
    }

    /**
     * Attaches or detaches this queue of a multi-queue tap (TUNSETQUEUE): the host kernel hands frames only to
     * attached queues, so queues of pairs the guest does not use must not hold frames nobody will read.
     */
    @Override
    public void setQueueEnabled(boolean enabled) throws IOException {
        Scratch s = Scratch.ofThisThread();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifreq = a.allocate(IFREQ_BYTES);
            ifreq.set(JAVA_SHORT, IFREQ_FLAGS, (short) (enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE));
            if (Libc.ioctl(s, fd, TUNSETQUEUE, ifreq) < 0) {
                int err = s.errno();
                if (err == Errno.EINVAL) return; // already in that state (or a single-queue tap): nothing to change
                throw error("tap " + name, "TUNSETQUEUE", err);
            }
        }
    }

    @Override
    public boolean awaitReadable(int timeoutMillis) throws IOException {
        // The receive thread's scratch: the lock is uncontended unless a caller breaks the one-reader rule.
        synchronized (receiving) {
            Scratch s = receiving.scratch();
            MemorySegment pollfds = s.structs();
            long tap = 0, woken = Libc.POLLFD_BYTES;
            pollfds.set(JAVA_INT, tap + Libc.POLLFD_FD, fd);
            pollfds.set(JAVA_SHORT, tap + Libc.POLLFD_EVENTS, Libc.POLLIN);
            pollfds.set(JAVA_SHORT, tap + Libc.POLLFD_REVENTS, (short) 0);
            pollfds.set(JAVA_INT, woken + Libc.POLLFD_FD, wake.fd());
            pollfds.set(JAVA_SHORT, woken + Libc.POLLFD_EVENTS, Libc.POLLIN);
            pollfds.set(JAVA_SHORT, woken + Libc.POLLFD_REVENTS, (short) 0);
            int r = Libc.poll(s, pollfds, 2, timeoutMillis);
            if (r < 0) {
                if (s.errno() == Errno.EINTR) return false;
                throw error("tap " + name, "poll", s.errno());
            }
            // A tap gone is said first, even to a woken wait: "nothing to read" would mean the tap works.
            int revents = pollfds.get(JAVA_SHORT, tap + Libc.POLLFD_REVENTS);
            if ((revents & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0) throw gone(revents);
            if ((pollfds.get(JAVA_SHORT, woken + Libc.POLLFD_REVENTS) & Libc.POLLIN) != 0) {
                // Woken: consume the count (a take resets it) and let the caller look.
                synchronized (wakeLock) {
                    if (!closed) wake.take();
                }
                return false;
            }
            return r > 0 && (revents & Libc.POLLIN) != 0;
        }
    }

    @Override
    public void wakeReceiver() {
        synchronized (wakeLock) {
            if (closed) return;
            wake.signal(1);
        }
    }

    @Override
    public int receive(List<MemorySegment> buffers) throws IOException {
        synchronized (receiving) {
            return (int) vectored(true, buffers, receiving);
        }
    }

    @Override
    public void send(List<MemorySegment> buffers) throws IOException {
        synchronized (sending) {
            vectored(false, buffers, sending);
        }
    }

    private long vectored(boolean read, List<MemorySegment> buffers, Direction direction) throws IOException {
        if (closed) throw new IOException("tap " + name + " is closed");
        Scratch s = direction.scratch();
        MemorySegment iov = direction.iov();
        long sendDeadline = 0;
        int count = Math.min(buffers.size(), MAX_IOV);
        for (int i = 0; i < count; i++) {
            iov.set(ADDRESS, Libc.IOVEC_BYTES * i + Libc.IOVEC_BASE, buffers.get(i));
            iov.set(JAVA_LONG, Libc.IOVEC_BYTES * i + Libc.IOVEC_LEN, buffers.get(i).byteSize());
        }
        while (true) {
            long n = read ? Libc.readv(s, fd, iov, count) : Libc.writev(s, fd, iov, count);
            if (n >= 0) return n;
            int err = s.errno();
            if (err == Errno.EINTR) continue;
            if (err == Errno.EAGAIN) {
                if (read) return 0;
                // The tap's queue is full: wait a while for the host to take frames (back-pressure on the
                // guest's transmit), then drop this one rather than hold the worker (and a reset) for good.
                long now = System.nanoTime();
                if (sendDeadline == 0) sendDeadline = now + SEND_WAIT_MILLIS * 1_000_000L;
                if (now - sendDeadline >= 0 || closed) throw new IOException("tap " + name + " took no frame for " + SEND_WAIT_MILLIS + " ms: frame dropped");
                awaitWritable(s, (int) Math.max(1, (sendDeadline - now) / 1_000_000L));
                continue;
            }
            throw error("tap " + name, read ? "readv" : "writev", err);
        }
    }

    /** Polls the tap for room to write, up to {@code timeoutMillis}; the caller tries the write again either way. */
    private void awaitWritable(Scratch s, int timeoutMillis) throws IOException {
        MemorySegment pollfd = s.structs();
        pollfd.set(JAVA_INT, Libc.POLLFD_FD, fd);
        pollfd.set(JAVA_SHORT, Libc.POLLFD_EVENTS, Libc.POLLOUT);
        pollfd.set(JAVA_SHORT, Libc.POLLFD_REVENTS, (short) 0);
        int r = Libc.poll(s, pollfd, 1, timeoutMillis);
        short revents = pollfd.get(JAVA_SHORT, Libc.POLLFD_REVENTS);
        if (r > 0 && (revents & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0) throw gone(revents);
    }

    private IOException gone(int revents) {
        return new IOException("tap " + name + " is gone (poll reports " + ((revents & Libc.POLLNVAL) != 0 ? "POLLNVAL" : (revents & Libc.POLLERR) != 0 ? "POLLERR" : "POLLHUP")
                + "): was the interface deleted?");
    }

    @Override
    public String describe() { return "tap " + name; }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        Libc.close(Scratch.ofThisThread(), fd);
        synchronized (wakeLock) {
            wake.close();
        }
    }

    /**
     * {@code function} failed on {@code what}; the errors a tap meets for a reason of its own say the likely one
     * (ENODEV: no tun module; EBUSY: another process has the queue; EBADFD: the interface was deleted).
     */
    private static ErrnoException error(String what, String function, int errno) {
        String hint = switch (errno) {
            case Errno.EBUSY -> " (another process has it?)";
            case Errno.ENODEV -> " (is the tun module loaded?)";
            case Errno.EBADFD -> " (the interface was deleted?)";
            default -> "";
        };
        return new ErrnoException(function, what + hint, errno);
    }
}
