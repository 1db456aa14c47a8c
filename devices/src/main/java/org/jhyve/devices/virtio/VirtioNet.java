package org.jhyve.devices.virtio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.devices.net.NetBackend;
import org.jhyve.devices.net.VirtioNetFeatures;
import org.jhyve.memory.MappingHold;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * virtio-net (virtio 1.2, 5.1) over one {@link NetBackend} per queue pair: queue 2k receives and 2k+1 transmits
 * for pair k, and the queue after the last pair is the control queue (queue 2 without {@code VIRTIO_NET_F_MQ}).
 * Each pair has its own receive thread and transmit worker; the driver chooses how many pairs it uses
 * ({@code VQ_PAIRS_SET}), and the backends of the others are disabled so that no frame waits where nobody reads.
 * Frames move between the backend and guest memory without copies (readv/writev on the guest's buffers); with a tap the 12-byte virtio_net_hdr passes through, so checksum and segmentation
 * offloads reach the host kernel. Receive uses mergeable buffers when negotiated (one frame may fill several
 * of the guest's buffers). When the guest has posted no receive buffers, frames wait in the backend
 * (back-pressure), never in an unbounded queue here; frames the device must drop are counted.
 *
 * <p>What goes wrong, and what the guest gets back:
 * <ul>
 * <li>A frame the driver may not send (shorter than a header and an Ethernet header, longer than the largest, or
 * a header asking for offloads it did not negotiate or pointing outside the frame): dropped, counted, its chain
 * returned. A receive buffer with no room for the header: returned unused (length 0), counted; receive goes on.
 * A control command that is unknown, not negotiated or malformed: {@code VIRTIO_NET_ERR}.
 * <li>A queue the driver broke (a descriptor outside RAM, a loop; see {@link SplitQueue}): DEVICE_NEEDS_RESET;
 * that queue's thread stops until the driver resets the device, which starts it again.
 * <li>The host side failing (a tap interface deleted under the VM): the link goes down (configuration status,
 * with a configuration interrupt), frames to send are dropped and counted, and the receive thread retries the
 * backend with back-off (10 ms doubling to 1 s) until it works again, when the link comes back up. The device
 * never asks for a reset for it: a reset would not mend the host.
 * <li>An interrupt that cannot be delivered is counted; the threads go on.
 * </ul>
 * Each of these is logged through one rate-limited {@link GuestErrorLog} for the device.
 */
public final class VirtioNet implements VirtioDevice {
    private static final Logger log = LoggerFactory.getLogger(VirtioNet.class);

    public static final int DEVICE_TYPE = 1;
    static final int RX = 0, TX = 1, CTRL = 2;
    static final int QUEUE_SIZE = 256;
    static final int HEADER = VirtioNetHeader.SIZE;
    /** The largest frame a backend hands over: a 64 KiB GSO frame plus Ethernet and VLAN headers. */
    static final int MAX_FRAME = 65550;
    /** An untagged Ethernet frame at MTU 1500, what a guest without receive offloads gets. */
    static final int MTU_FRAME = 1514;
    static final int CTRL_RX_CLASS = 0, CTRL_MAC_CLASS = 1, CTRL_MQ_CLASS = 4, ACK_OK = 0, ACK_ERR = 1;
    static final int VIRTIO_NET_S_LINK_UP = 1;
    /** Waits between tries of a failing backend: from the first to the last, doubling. */
    static final long FIRST_RETRY_MILLIS = 10, LAST_RETRY_MILLIS = 1000;
    /** The most queue pairs {@code queues=} may ask for. */
    public static final int MAX_PAIRS = 16;

    private final String name;
    private final List<NetBackend> backends;
    private final byte[] mac;
    private final GuestErrorLog errors;
    /**
     * The header of the frame each pair's transmit worker is sending: a copy of the guest's, checked, in native
     * memory a backend can write from. The guest cannot change it between the check and the send.
     */
    private final MemorySegment[] txHeaders;
    private final List<QueueWorker> workers = new ArrayList<>();
    private final List<Thread> rxThreads = new ArrayList<>();
    /**
     * The current activation, or null while the device is stopped. A receive thread serves the activation that
     * started it and stops once that is no longer current, so a thread a reset gave up on (stuck in its backend)
     * never serves the driver's next setup.
     */
    private volatile Object activation;
    /** The features negotiated at the last activation, for the transmit checks. */
    private volatile long features;
    /** Queue pairs the driver uses (VQ_PAIRS_SET); receive threads of the others wait. Guarded by {@code this}. */
    private int activePairs = 1;
    /** Pairs the driver may use: all with VIRTIO_NET_F_MQ negotiated, else one. Guarded by {@code this}. */
    private int usablePairs = 1;
    private volatile boolean promiscuous = true;
    /** Bit k: pair k's backend failed and has not worked since. The link is up while this is 0. */
    private final AtomicInteger failingPairs = new AtomicInteger();
    final AtomicLong rxFrames = new AtomicLong(), txFrames = new AtomicLong();
    final AtomicLong rxTruncated = new AtomicLong(), txDropped = new AtomicLong();
    final AtomicLong rxRefused = new AtomicLong(), controlRefused = new AtomicLong(), backendErrors = new AtomicLong();

    /** Package-private, as the others: {@link NetBackend} is not exported; the catalog builds one through {@link VirtioNetFactory}. */
    VirtioNet(String name, NetBackend backend, byte[] mac) {
        this(name, List.of(backend), mac);
    }

    /** {@code backends.size()} queue pairs, pair k on backend k (the queues of one multi-queue tap, say). */
    VirtioNet(String name, List<NetBackend> backends, byte[] mac) {
        this(name, backends, mac, new GuestErrorLog(log, name));
    }

    /** As above, reporting to {@code errors} (tests count its lines). */
    VirtioNet(String name, List<NetBackend> backends, byte[] mac, GuestErrorLog errors) {
        if (backends.isEmpty() || backends.size() > MAX_PAIRS) throw new IllegalArgumentException("1-" + MAX_PAIRS + " queue pairs: " + backends.size());
        this.name = name;
        this.backends = List.copyOf(backends);
        this.mac = mac.clone();
        this.errors = errors;
        Arena arena = Arena.ofAuto();
        this.txHeaders = new MemorySegment[backends.size()];
        for (int k = 0; k < txHeaders.length; k++) txHeaders[k] = arena.allocate(HEADER);
    }

    private NetBackend backend() { return backends.get(0); }

    @Override public int deviceType() { return DEVICE_TYPE; }

    @Override public int pciClassCode() { return 0x020000; } // network, Ethernet

    @Override
    public long deviceFeatures() {
        return 1L << VirtioNetFeatures.MAC | 1L << VirtioNetFeatures.STATUS | 1L << VirtioNetFeatures.MRG_RXBUF
                | 1L << VirtioNetFeatures.CTRL_VQ | 1L << VirtioNetFeatures.CTRL_RX | 1L << VirtioNetFeatures.CTRL_MAC_ADDR
                | (backends.size() > 1 ? 1L << VirtioNetFeatures.MQ : 0)
                | backend().offloadFeatures();
    }

    @Override public int queueCount() { return 2 * backends.size() + 1; }

    @Override public int maxQueueSize() { return QUEUE_SIZE; }

    /** mac[6], status (link up), max_virtqueue_pairs. */
    @Override public int configSize() { return 10; }

    @Override
    public long configRead(int offset, int size) {
        byte[] config = new byte[10];
        System.arraycopy(mac, 0, config, 0, 6);
        config[6] = (byte) (linkUp() ? VIRTIO_NET_S_LINK_UP : 0);
        config[8] = (byte) backends.size(); // max_virtqueue_pairs (little-endian u16; at most 16)
        long v = 0;
        for (int i = size - 1; i >= 0; i--) v = v << 8 | (config[offset + i] & 0xff);
        return v;
    }

    /** Whether every backend works: what the configuration's status tells the driver. */
    public boolean linkUp() { return failingPairs.get() == 0; }

    /** Frames received and sent, cut on receive and dropped on transmit: for tests and the log at close. */
    public VirtioNetCounters counters() {
        return new VirtioNetCounters(rxFrames.get(), txFrames.get(), rxTruncated.get(), txDropped.get(),
                rxRefused.get(), controlRefused.get(), backendErrors.get());
    }

    @Override
    public synchronized void activate(VirtioQueues queues) {
        features = queues.features();
        for (NetBackend b : backends) {
            try {
                b.enableOffloads(queues.features());
            } catch (IOException e) {
                errors.report("could not enable receive offloads on %s: %s", b.describe(), e.getMessage());
            }
        }
        // Without MQ the driver knows one pair and the control queue is queue 2.
        int pairs = queues.negotiated(VirtioNetFeatures.MQ) ? backends.size() : 1;
        usablePairs = pairs;
        setActivePairs(1); // the spec's default until the driver sends VQ_PAIRS_SET
        Object token = new Object();
        activation = token;
        for (int k = 0; k < pairs; k++) {
            int pair = k;
            NetBackend b = backends.get(k);
            if (queues.queue(2 * k + 1) != null) {
                workers.add(QueueWorker.start(name + "-tx" + k, queues, 2 * k + 1, c -> transmit(pair, b, c), errors));
            }
            if (queues.queue(2 * k) != null) rxThreads.add(startReceiver(token, queues, pair, b));
        }
        if (queues.queue(2 * pairs) != null) workers.add(QueueWorker.start(name + "-ctrl", queues, 2 * pairs, this::control, errors));
    }

    /**
     * Pair {@code pair}'s receive thread. Like a {@link QueueWorker} it holds guest RAM's mapping for its life (a
     * backend's readv writes straight into the guest's buffers, and may still be under way when the VM closes)
     * and tells the transport when it has stopped for good, so that a reset it outlives stays pending until then.
     */
    private Thread startReceiver(Object token, VirtioQueues queues, int pair, NetBackend backend) {
        MappingHold hold = queues.memory().hold();
        queues.workerStarted();
        try {
            return Thread.ofPlatform().name(name + "-rx" + pair).daemon().start(() -> {
                try (hold) {
                    receiveLoop(token, queues, pair, backend);
                } finally {
                    queues.workerStopped();
                }
            });
        } catch (RuntimeException | Error e) {
            hold.close();
            queues.workerStopped();
            throw e;
        }
    }

    private boolean serving(Object token) { return activation == token; }


    /** Pairs 0..n-1 receive; the backends of the others stop taking frames. Called under {@code this}. */
    private void setActivePairs(int n) {
        assert Thread.holdsLock(this);
        activePairs = n;
        for (int k = 1; k < backends.size(); k++) {
            try {
                backends.get(k).setQueueEnabled(k < n);
            } catch (IOException e) {
                errors.report("queue pair %d: %s", k, e.getMessage());
            }
        }
        notifyAll();
    }

    private synchronized boolean awaitActive(Object token, int pair) throws InterruptedException {
        while (serving(token) && pair >= activePairs) wait(200);
        return serving(token);
    }

    @Override
    public void reset() {
        // Workers and receive threads are stopped without holding this object's lock: they take it themselves
        // (VQ_PAIRS_SET, waiting for their pair), so joining them under it could deadlock. The wait is bounded in
        // all (a reset runs on a vCPU): a thread still inside its backend after it stops by itself when that
        // returns, serving nothing, and the transport keeps the reset pending until then.
        List<QueueWorker> stoppingWorkers;
        List<Thread> stoppingThreads;
        synchronized (this) {
            activation = null;
            notifyAll();
            stoppingWorkers = List.copyOf(workers);
            stoppingThreads = List.copyOf(rxThreads);
            workers.clear();
            rxThreads.clear();
        }
        long deadline = System.nanoTime() + QueueWorker.CLOSE_WAIT.toNanos();
        // A receive thread may be waiting for a frame: wake it rather than wait out its poll.
        if (!stoppingThreads.isEmpty()) for (NetBackend b : backends) b.wakeReceiver();
        QueueWorker.closeAll(stoppingWorkers, QueueWorker.CLOSE_WAIT);
        for (Thread t : stoppingThreads) {
            try {
                if (!t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                    errors.report("%s is still inside its backend after %d ms; it stops when that returns",
                            t.getName(), QueueWorker.CLOSE_WAIT.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            activePairs = 1;
            promiscuous = true;
        }
    }

    @Override
    public void close() {
        reset();
        log.info("{}: {}", name, counters());
        for (NetBackend b : backends) b.close();
    }

    // ---- transmit ----

    /** Sends one frame on pair 0, for a test or fuzz harness driving the device without its workers running. */
    int transmit(DescriptorChain chain) {
        return transmit(0, backend(), chain);
    }

    /** Sends one frame of pair {@code pair} (on its transmit worker); never throws, whatever the chain holds. */
    int transmit(int pair, NetBackend backend, DescriptorChain chain) {
        GuestBuffers out = chain.readable();
        long length = out.length();
        if (length < HEADER + 14 || length > HEADER + MAX_FRAME) {
            return dropTransmit("a frame of %d bytes with its header (%d to %d may be sent)", length, HEADER + 14, HEADER + MAX_FRAME);
        }
        int frame = (int) (length - HEADER);
        byte[] bytes = new byte[HEADER];
        out.read(0, bytes);
        String problem = VirtioNetHeader.parse(bytes).problem(features, frame);
        if (problem != null) return dropTransmit("%s", problem);
        try {
            List<MemorySegment> buffers = new ArrayList<>();
            if (backend.vnetHeader()) {
                MemorySegment header = txHeaders[pair];
                MemorySegment.copy(bytes, 0, header, ValueLayout.JAVA_BYTE, 0, HEADER);
                buffers.add(header);
            }
            buffers.addAll(out.slices(HEADER, frame));
            backend.send(buffers);
            txFrames.incrementAndGet();
        } catch (IOException e) {
            txDropped.incrementAndGet();
            backendErrors.incrementAndGet();
            // A link that failed for good is reported once, by the receive side ("link down"), not per frame.
            if (!backend.failed()) errors.report("sending to %s failed, frame dropped: %s", backend.describe(), e.getMessage());
        } catch (RuntimeException e) {
            txDropped.incrementAndGet();
            errors.fault("sending to " + backend.describe() + " failed, frame dropped", e);
        }
        return 0;
    }

    private int dropTransmit(String format, Object... args) {
        txDropped.incrementAndGet();
        errors.report("dropped a frame from the guest: " + format, args);
        return 0;
    }

    // ---- receive ----

    /** num_buffers of a frame in one buffer (never written to: the header copies it). */
    private static final byte[] ONE_BUFFER = {1, 0};

    private void receiveLoop(Object token, VirtioQueues queues, int pair, NetBackend backend) {
        int rx = 2 * pair;
        SplitQueue queue = queues.queue(rx);
        boolean mergeable = queues.negotiated(VirtioNetFeatures.MRG_RXBUF);
        boolean bigFrames = queues.negotiated(VirtioNetFeatures.GUEST_TSO4) || queues.negotiated(VirtioNetFeatures.GUEST_TSO6);
        long need = HEADER + (bigFrames ? MAX_FRAME : MTU_FRAME + 4);
        List<DescriptorChain> posted = new ArrayList<>();
        long capacity = 0;
        int sinceInterrupt = 0;
        long retryMillis = 0;
        // After a frame, the next read comes first and the poll only once a read finds nothing: a stream of frames
        // then costs one readv each, not a poll and a readv.
        boolean readFirst = false;
        try {
            while (serving(token)) {
                if (pair > 0 && !awaitActive(token, pair)) return;
                int used;
                try {
                    // The backend works again once it waits cleanly or hands over a frame (not merely once poll
                    // answers: a backend whose reads keep failing would flap the link).
                    if (!readFirst && !backend.awaitReadable(200)) {
                        retryMillis = 0;
                        backendWorks(queues, pair, backend);
                        continue;
                    }
                    // Collect the guest's receive buffers until one frame surely fits.
                    DescriptorChain chain;
                    while ((posted.isEmpty() || (mergeable && capacity < need)) && (chain = queue.pop()) != null) {
                        if (chain.writable().length() < HEADER) {
                            refuse(queue, chain);
                            continue;
                        }
                        posted.add(chain);
                        capacity += chain.writable().length();
                    }
                    if (posted.isEmpty() || (mergeable && capacity < need)) {
                        // No room: leave the frame in the backend until the guest posts buffers.
                        retryMillis = 0;
                        backendWorks(queues, pair, backend);
                        if (queue.enableNotifications()) continue;
                        // Tell the driver of the frames already delivered: it refills only once it has seen them.
                        if (queue.needsInterrupt()) {
                            interrupt(queues, rx);
                            sinceInterrupt = 0;
                        }
                        if (!queues.doorbell(rx).await()) return;
                        queue.disableNotifications();
                        continue;
                    }
                    used = receiveOne(token, backend, queue, posted, mergeable);
                    retryMillis = 0;
                    backendWorks(queues, pair, backend);
                } catch (IOException e) {
                    readFirst = false;
                    retryMillis = backendFailed(token, queues, pair, backend, e, retryMillis);
                    continue;
                }
                readFirst = used > 0;
                if (used < 0) {
                    // The backend has nothing more: tell the driver of what it got before waiting for the next frame.
                    if (sinceInterrupt > 0 && queue.needsInterrupt()) interrupt(queues, rx);
                    sinceInterrupt = 0;
                    continue;
                }
                for (int i = 0; i < used; i++) capacity -= posted.remove(0).writable().length();
                // Under a steady stream, every 64 frames.
                if (++sinceInterrupt >= 64) {
                    if (queue.needsInterrupt()) interrupt(queues, rx);
                    sinceInterrupt = 0;
                }
            }
        } catch (VirtqueueException e) {
            queues.fail("receive queue: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // A device bug: the queue's state is unknown, so the driver must reset it (which starts this again).
            errors.fault("receive queue " + rx + " failed", e);
            queues.fail("receive queue: device error " + e);
        }
    }

    /** A receive buffer with no room for the header: back to the driver unused, and receive goes on. */
    private void refuse(SplitQueue queue, DescriptorChain chain) {
        queue.addUsed(chain.head(), 0);
        rxRefused.incrementAndGet();
        errors.report("receive buffer %d has %d writable bytes, less than the %d-byte header: returned unused",
                chain.head(), chain.writable().length(), HEADER);
    }

    private void interrupt(VirtioQueues queues, int queue) {
        try {
            queues.interrupt(queue);
        } catch (RuntimeException e) {
            errors.fault("interrupting the driver for queue " + queue + " failed", e);
        }
    }

    /**
     * Pair {@code pair}'s backend failed: the first time since it last worked, the link goes down and the driver
     * hears of it. Waits before the next try (unless the device stops) and returns how long it waited.
     */
    private long backendFailed(Object token, VirtioQueues queues, int pair, NetBackend backend, IOException e, long lastWaitMillis)
            throws InterruptedException {
        backendErrors.incrementAndGet();
        int bit = 1 << pair;
        int before = failingPairs.getAndUpdate(m -> m | bit);
        if ((before & bit) == 0) {
            errors.report("%s failed, link down until it works again: %s", backend.describe(), e.getMessage());
            if (before == 0) queues.configChanged();
        }
        long wait = lastWaitMillis == 0 ? FIRST_RETRY_MILLIS : Math.min(2 * lastWaitMillis, LAST_RETRY_MILLIS);
        synchronized (this) {
            long deadline = System.nanoTime() + wait * 1_000_000L;
            for (long left = wait; serving(token) && left > 0; left = (deadline - System.nanoTime()) / 1_000_000L) wait(left);
        }
        return wait;
    }

    /** Pair {@code pair}'s backend answered: if it had failed, the link may come back up. */
    private void backendWorks(VirtioQueues queues, int pair, NetBackend backend) {
        int bit = 1 << pair;
        if ((failingPairs.get() & bit) == 0) return;
        int after = failingPairs.updateAndGet(m -> m & ~bit);
        log.info("{}: {} works again{}", name, backend.describe(), after == 0 ? ", link up" : "");
        if (after == 0) queues.configChanged();
    }

    /** Reads one frame into the posted chains; returns how many chains it used (-1: nothing was waiting). */
    private int receiveOne(Object token, NetBackend backend, SplitQueue queue, List<DescriptorChain> posted, boolean mergeable)
            throws IOException {
        List<DescriptorChain> chains = mergeable ? posted : posted.subList(0, 1);
        List<MemorySegment> buffers = new ArrayList<>();
        for (DescriptorChain c : chains) buffers.addAll(c.writable().slices(0, c.writable().length()));
        int length;
        if (backend.vnetHeader()) {
            length = backend.receive(buffers);
        } else {
            // The backend has no header: the frame goes after the one written below (no offloads).
            List<MemorySegment> after = new ArrayList<>();
            long skip = HEADER;
            for (MemorySegment b : buffers) {
                if (skip >= b.byteSize()) {
                    skip -= b.byteSize();
                    continue;
                }
                after.add(b.asSlice(skip));
                skip = 0;
            }
            int frame = backend.receive(after);
            length = frame == 0 ? 0 : frame + HEADER;
        }
        if (length == 0) return -1;
        // Reset while the backend wrote the frame: the ring is the driver's again, so the frame is not published.
        if (!serving(token)) return -1;
        long total = 0;
        for (MemorySegment b : buffers) total += b.byteSize();
        if (length >= total) rxTruncated.incrementAndGet(); // the frame filled everything: it may have been cut
        List<SplitQueue.Completion> completions = new ArrayList<>();
        long left = length;
        while (completions.size() < chains.size() && left > 0) {
            DescriptorChain c = chains.get(completions.size());
            long take = Math.min(left, c.writable().length());
            completions.add(new SplitQueue.Completion(c.head(), (int) take));
            left -= take;
        }
        int used = completions.size();
        // num_buffers (header bytes 10-11): how many buffers this frame spans (a tap leaves those bytes alone). It
        // must be in the header before the used index lets the driver read the header.
        byte[] numBuffers = used == 1 ? ONE_BUFFER : new byte[] {(byte) used, (byte) (used >>> 8)};
        if (backend.vnetHeader()) {
            chains.get(0).writable().write(10, numBuffers);
        } else {
            byte[] header = new byte[HEADER];
            System.arraycopy(numBuffers, 0, header, 10, 2);
            chains.get(0).writable().write(0, header);
        }
        // All buffers of the frame at once: a driver that sees the first looks for the rest straight away.
        if (used == 1) queue.addUsed(completions.getFirst().head(), completions.getFirst().written());
        else queue.addUsed(completions);
        rxFrames.incrementAndGet();
        return used;
    }

    // ---- control queue ----

    /** Serves one control command (virtio 1.2, 5.1.6.5); anything unknown, not negotiated or malformed gets ERR. */
    int control(DescriptorChain chain) {
        GuestBuffers in = chain.readable(), out = chain.writable();
        if (out.length() < 1) {
            controlRefused.incrementAndGet();
            errors.report("control command %d has no room for its ack", chain.head());
            return 0;
        }
        String problem = controlProblem(in);
        if (problem != null) {
            controlRefused.incrementAndGet();
            errors.report("control command refused: %s", problem);
        }
        out.write(out.length() - 1, new byte[] {(byte) (problem == null ? ACK_OK : ACK_ERR)});
        return 1;
    }

    /** Carries out the command in {@code in} (class, command, data); returns why it was refused, or null. */
    private String controlProblem(GuestBuffers in) {
        if (in.length() < 2) return "shorter than its class and command";
        byte[] classAndCommand = new byte[2];
        in.read(0, classAndCommand);
        int cls = classAndCommand[0] & 0xff, cmd = classAndCommand[1] & 0xff;
        long data = in.length() - 2;
        String what = "class " + cls + " command " + cmd;
        switch (cls) {
            case CTRL_RX_CLASS -> {
                if (!negotiated(VirtioNetFeatures.CTRL_RX)) return what + " without VIRTIO_NET_F_CTRL_RX";
                if (cmd > 5) return "unknown " + what;
                if (data != 1) return what + " with " + data + " data bytes, not 1";
                // promiscuous, allmulti, alluni, nomulti, nouni, nobcast: the backend filters nothing
                if (cmd == 0) promiscuous = readByte(in, 2) != 0;
                return null;
            }
            case CTRL_MAC_CLASS -> {
                if (cmd == 0) {
                    if (!negotiated(VirtioNetFeatures.CTRL_RX)) return "MAC_TABLE_SET without VIRTIO_NET_F_CTRL_RX";
                    return macTablesProblem(in);
                }
                if (cmd == 1) {
                    if (!negotiated(VirtioNetFeatures.CTRL_MAC_ADDR)) return "MAC_ADDR_SET without VIRTIO_NET_F_CTRL_MAC_ADDR";
                    return data == 6 ? null : "MAC_ADDR_SET with " + data + " data bytes, not 6";
                }
                return "unknown " + what;
            }
            case CTRL_MQ_CLASS -> {
                if (!negotiated(VirtioNetFeatures.MQ)) return what + " without VIRTIO_NET_F_MQ";
                if (cmd != 0) return "unknown " + what;
                if (data != 2) return "VQ_PAIRS_SET with " + data + " data bytes, not 2";
                // VQ_PAIRS_SET: how many pairs the driver uses from now on.
                int pairs = readByte(in, 2) | readByte(in, 3) << 8;
                synchronized (this) {
                    if (pairs < 1 || pairs > usablePairs) return "VQ_PAIRS_SET " + pairs + " of " + usablePairs + " pairs";
                    setActivePairs(pairs);
                }
                return null;
            }
            default -> {
                return "unknown " + what;
            }
        }
    }

    /**
     * MAC_TABLE_SET's data: a unicast then a multicast table, each a 32-bit entry count and that many 6-byte
     * addresses, filling the data exactly. Accepted when well formed (frames for other MACs are not filtered).
     */
    private static String macTablesProblem(GuestBuffers in) {
        long at = 2;
        for (String table : new String[] {"unicast", "multicast"}) {
            if (in.length() - at < 4) return "MAC_TABLE_SET ends before its " + table + " table's entry count";
            byte[] count = new byte[4];
            in.read(at, count);
            long entries = (count[0] & 0xffL) | (count[1] & 0xffL) << 8 | (count[2] & 0xffL) << 16 | (count[3] & 0xffL) << 24;
            at += 4;
            if (entries * 6 > in.length() - at) {
                return "MAC_TABLE_SET's " + table + " table of " + entries + " entries runs past the " + in.length() + "-byte command";
            }
            at += entries * 6;
        }
        return at == in.length() ? null : "MAC_TABLE_SET has " + (in.length() - at) + " bytes after its tables";
    }

    private static int readByte(GuestBuffers in, long at) {
        byte[] b = new byte[1];
        in.read(at, b);
        return b[0] & 0xff;
    }

    private boolean negotiated(int bit) {
        return (features & 1L << bit) != 0;
    }
}
