package org.jhyve.devices.net;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A Linux tap interface through /dev/net/tun (FFM): opened by name (created if it does not exist, which needs
 * CAP_NET_ADMIN), with IFF_VNET_HDR so checksum and TSO offloads pass between guest and host kernel in the
 * 12-byte virtio_net_hdr, and readv/writev straight on guest memory.
 *
 * <p>When the interface goes away under the VM ({@code ip link del}), the kernel detaches this file: poll reports
 * POLLERR and reads and writes fail with EBADFD. Every call then throws {@link IOException} saying so, rather
 * than answering "nothing to read" at once, which would have a receive loop spin.
 */
public final class TapBackend implements NetBackend {
    private static final int O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    private static final int IFF_TAP = 0x0002, IFF_NO_PI = 0x1000, IFF_VNET_HDR = 0x4000;
    private static final int IFF_MULTI_QUEUE = 0x0100, IFF_ATTACH_QUEUE = 0x0200, IFF_DETACH_QUEUE = 0x0400;
    private static final long TUNSETIFF = 0x400454caL, TUNSETOFFLOAD = 0x400454d0L, TUNSETVNETHDRSZ = 0x400454d8L;
    private static final long TUNSETQUEUE = 0x400454d9L;
    static final int TUN_F_CSUM = 0x01, TUN_F_TSO4 = 0x02, TUN_F_TSO6 = 0x04, TUN_F_TSO_ECN = 0x08;
    private static final int EAGAIN = 11, EINTR = 4;
    private static final short POLLIN = 1, POLLOUT = 4, POLLERR = 8, POLLHUP = 0x10, POLLNVAL = 0x20;
    /** How long a frame to send waits for room in the tap's queue before it is dropped. */
    static final int SEND_WAIT_MILLIS = 100;
    static final int VNET_HEADER = 12;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = call("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle IOCTL_PTR = call("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle IOCTL_LONG = call("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle READV = call("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle WRITEV = call("writev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle POLL = call("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EVENTFD = call("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = call("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = call("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final int EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000;

    private static MethodHandle call(String name, FunctionDescriptor fd) {
        Linker.Option[] options = name.equals("ioctl")
                ? new Linker.Option[] {Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno")}
                : new Linker.Option[] {Linker.Option.captureCallState("errno")};
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, options);
    }

    /** The most buffers one readv/writev takes (Linux's IOV_MAX); a longer chain is cut. */
    private static final int MAX_IOV = 1024;

    /**
     * Native memory for one direction's calls, allocated once: the receive thread (poll, readv) and the
     * transmit worker (writev) each use their own, so the per-frame path allocates nothing. GC-managed
     * rather than closed with the tap, since a thread may still be inside readv when another closes it.
     */
    private record Scratch(MemorySegment state, MemorySegment iov, MemorySegment pollfds, MemorySegment counter) {
        static Scratch allocate() {
            Arena auto = Arena.ofAuto();
            return new Scratch(auto.allocate(CALL_STATE), auto.allocate(16L * MAX_IOV, 8), auto.allocate(16, 4), auto.allocate(8, 8));
        }
    }

    private final String name;
    private final int fd;
    /** An eventfd polled with the tap: {@link #wakeReceiver} writes it to end a poll before its timeout. */
    private final int wakeFd;
    private final Scratch receiving = Scratch.allocate();
    private final Scratch sending = Scratch.allocate();
    private final Scratch waking = Scratch.allocate();
    private volatile boolean closed;

    private TapBackend(String name, int fd, int wakeFd) {
        this.name = name;
        this.fd = fd;
        this.wakeFd = wakeFd;
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
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom("/dev/net/tun"), O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
            if (fd < 0) throw error("open /dev/net/tun", errno(state));
            try {
                MemorySegment ifreq = a.allocate(40);
                MemorySegment.copy(name.getBytes(StandardCharsets.US_ASCII), 0, ifreq, JAVA_BYTE_LAYOUT, 0, name.length());
                ifreq.set(JAVA_SHORT, 16, (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE : 0)));
                if ((int) IOCTL_PTR.invokeExact(state, fd, TUNSETIFF, ifreq) < 0) {
                    int err = errno(state);
                    if (err == 22 && multiQueue) throw error("attach to tap " + name + " as a multi-queue interface (was it created without multi_queue?)", err);
                    throw error(err == 1 ? "attach to tap " + name + " (creating an interface needs CAP_NET_ADMIN; or create it first: ip tuntap add dev "
                            + name + " mode tap vnet_hdr user $USER)" : "attach to tap " + name, err);
                }
                MemorySegment size = a.allocate(JAVA_INT);
                size.set(JAVA_INT, 0, VNET_HEADER);
                if ((int) IOCTL_PTR.invokeExact(state, fd, TUNSETVNETHDRSZ, size) < 0) throw error("TUNSETVNETHDRSZ on " + name, errno(state));
                int wakeFd = (int) EVENTFD.invokeExact(state, 0, EFD_NONBLOCK | EFD_CLOEXEC);
                if (wakeFd < 0) throw error("eventfd for tap " + name, errno(state));
                return new TapBackend(name, fd, wakeFd);
            } catch (IOException | RuntimeException e) {
                int ignored = (int) CLOSE.invokeExact(state, fd);
                throw e;
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static final java.lang.foreign.ValueLayout.OfByte JAVA_BYTE_LAYOUT = java.lang.foreign.ValueLayout.JAVA_BYTE;

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
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            if ((int) IOCTL_LONG.invokeExact(state, fd, TUNSETOFFLOAD, (long) flags) < 0) throw error("TUNSETOFFLOAD on " + name, errno(state));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Attaches or detaches this queue of a multi-queue tap (TUNSETQUEUE): the host kernel hands frames only to
     * attached queues, so queues of pairs the guest does not use must not hold frames nobody will read.
     */
    @Override
    public void setQueueEnabled(boolean enabled) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            MemorySegment ifreq = a.allocate(40);
            ifreq.set(JAVA_SHORT, 16, (short) (enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE));
            if ((int) IOCTL_PTR.invokeExact(state, fd, TUNSETQUEUE, ifreq) < 0) {
                int err = errno(state);
                if (err == 22) return; // already in that state (or a single-queue tap): nothing to change
                throw error("TUNSETQUEUE on " + name, err);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public boolean awaitReadable(int timeoutMillis) throws IOException {
        // The receive thread's scratch: the lock is uncontended unless a caller breaks the one-reader rule.
        synchronized (receiving) {
            MemorySegment state = receiving.state(), pollfds = receiving.pollfds();
            pollfds.set(JAVA_INT, 0, fd);
            pollfds.set(JAVA_SHORT, 4, POLLIN);
            pollfds.set(JAVA_SHORT, 6, (short) 0);
            pollfds.set(JAVA_INT, 8, wakeFd);
            pollfds.set(JAVA_SHORT, 12, POLLIN);
            pollfds.set(JAVA_SHORT, 14, (short) 0);
            try {
                int r = (int) POLL.invokeExact(state, pollfds, 2L, timeoutMillis);
                if (r < 0) {
                    if (errno(state) == EINTR) return false;
                    throw error("poll on tap " + name, errno(state));
                }
                // A tap gone is said first, even to a woken wait: "nothing to read" would mean the tap works.
                int revents = pollfds.get(JAVA_SHORT, 6);
                if ((revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) throw gone(revents);
                if ((pollfds.get(JAVA_SHORT, 14) & POLLIN) != 0) {
                    // Woken: consume the count (a non-blocking read of the eventfd resets it) and let the caller look.
                    long ignored = (long) READ.invokeExact(state, wakeFd, receiving.counter(), 8L);
                    return false;
                }
                return r > 0 && (revents & POLLIN) != 0;
            } catch (IOException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    @Override
    public void wakeReceiver() {
        synchronized (waking) {
            if (closed) return;
            waking.counter().set(JAVA_LONG, 0, 1L);
            try {
                long ignored = (long) WRITE.invokeExact(waking.state(), wakeFd, waking.counter(), 8L);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
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

    private long vectored(boolean read, List<MemorySegment> buffers, Scratch scratch) throws IOException {
        if (closed) throw new IOException("tap " + name + " is closed");
        try {
            MemorySegment state = scratch.state(), iov = scratch.iov();
            long sendDeadline = 0;
            int count = Math.min(buffers.size(), MAX_IOV);
            for (int i = 0; i < count; i++) {
                iov.set(ADDRESS, 16L * i, buffers.get(i));
                iov.set(JAVA_LONG, 16L * i + 8, buffers.get(i).byteSize());
            }
            while (true) {
                long n = read ? (long) READV.invokeExact(state, fd, iov, count) : (long) WRITEV.invokeExact(state, fd, iov, count);
                if (n >= 0) return n;
                int err = errno(state);
                if (err == EINTR) continue;
                if (err == EAGAIN) {
                    if (read) return 0;
                    // The tap's queue is full: wait a while for the host to take frames (back-pressure on the
                    // guest's transmit), then drop this one rather than hold the worker (and a reset) for good.
                    long now = System.nanoTime();
                    if (sendDeadline == 0) sendDeadline = now + SEND_WAIT_MILLIS * 1_000_000L;
                    if (now - sendDeadline >= 0 || closed) throw new IOException("tap " + name + " took no frame for " + SEND_WAIT_MILLIS + " ms: frame dropped");
                    awaitWritable(scratch, (int) Math.max(1, (sendDeadline - now) / 1_000_000L));
                    continue;
                }
                throw error((read ? "readv" : "writev") + " on tap " + name, err);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Polls the tap for room to write, up to {@code timeoutMillis}; the caller tries the write again either way. */
    private void awaitWritable(Scratch scratch, int timeoutMillis) throws Throwable {
        MemorySegment pollfds = scratch.pollfds();
        pollfds.set(JAVA_INT, 0, fd);
        pollfds.set(JAVA_SHORT, 4, POLLOUT);
        pollfds.set(JAVA_SHORT, 6, (short) 0);
        int r = (int) POLL.invokeExact(scratch.state(), pollfds, 1L, timeoutMillis);
        if (r > 0 && (pollfds.get(JAVA_SHORT, 6) & (POLLERR | POLLHUP | POLLNVAL)) != 0) throw gone(pollfds.get(JAVA_SHORT, 6));
    }

    private IOException gone(int revents) {
        return new IOException("tap " + name + " is gone (poll reports " + ((revents & POLLNVAL) != 0 ? "POLLNVAL" : (revents & POLLERR) != 0 ? "POLLERR" : "POLLHUP")
                + "): was the interface deleted?");
    }

    @Override
    public String describe() { return "tap " + name; }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int ignored = (int) CLOSE.invokeExact(state, fd);
            synchronized (waking) {
                ignored = (int) CLOSE.invokeExact(state, wakeFd);
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static IOException error(String what, int errno) {
        return new IOException(what + ": " + switch (errno) {
            case 1 -> "operation not permitted";
            case 2 -> "no such file or directory";
            case 13 -> "permission denied";
            case 16 -> "device or resource busy (another process has it?)";
            case 19 -> "no such device (is the tun module loaded?)";
            case 22 -> "invalid argument";
            case 77 -> "file descriptor in bad state (the interface was deleted?)";
            default -> "errno " + errno;
        } + " (errno " + errno + ")");
    }
}
