package org.jhyve.devices.virtio;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.devices.net.NetBackend;
import org.jhyve.devices.net.VirtioNetFeatures;
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
 */
public final class VirtioNet implements VirtioDevice {
    private static final Logger log = LoggerFactory.getLogger(VirtioNet.class);

    public static final int DEVICE_TYPE = 1;
    static final int RX = 0, TX = 1, CTRL = 2;
    static final int QUEUE_SIZE = 256;
    static final int HEADER = 12;
    /** The largest frame a backend hands over: a 64 KiB GSO frame plus Ethernet and VLAN headers. */
    static final int MAX_FRAME = 65550;
    /** An untagged Ethernet frame at MTU 1500, what a guest without receive offloads gets. */
    static final int MTU_FRAME = 1514;
    static final int CTRL_RX_CLASS = 0, CTRL_MAC_CLASS = 1, CTRL_MQ_CLASS = 4, ACK_OK = 0, ACK_ERR = 1;
    /** The most queue pairs {@code queues=} may ask for. */
    public static final int MAX_PAIRS = 16;

    private final String name;
    private final List<NetBackend> backends;
    private final byte[] mac;
    private final List<QueueWorker> workers = new ArrayList<>();
    private final List<Thread> rxThreads = new ArrayList<>();
    private volatile boolean running;
    /** Queue pairs the driver uses (VQ_PAIRS_SET); receive threads of the others wait. Guarded by {@code this}. */
    private int activePairs = 1;
    /** Pairs the driver may use: all with VIRTIO_NET_F_MQ negotiated, else one. Guarded by {@code this}. */
    private int usablePairs = 1;
    private volatile boolean promiscuous = true;
    final AtomicLong rxFrames = new AtomicLong(), txFrames = new AtomicLong();
    final AtomicLong rxTruncated = new AtomicLong(), txDropped = new AtomicLong();

    public VirtioNet(String name, NetBackend backend, byte[] mac) {
        this(name, List.of(backend), mac);
    }

    /** {@code backends.size()} queue pairs, pair k on backend k (the queues of one multi-queue tap, say). */
    public VirtioNet(String name, List<NetBackend> backends, byte[] mac) {
        if (backends.isEmpty() || backends.size() > MAX_PAIRS) throw new IllegalArgumentException("1-" + MAX_PAIRS + " queue pairs: " + backends.size());
        this.name = name;
        this.backends = List.copyOf(backends);
        this.mac = mac.clone();
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
        config[6] = 1; // VIRTIO_NET_S_LINK_UP
        config[8] = (byte) backends.size(); // max_virtqueue_pairs (little-endian u16; at most 16)
        long v = 0;
        for (int i = size - 1; i >= 0; i--) v = v << 8 | (config[offset + i] & 0xff);
        return v;
    }

    /** Frames received and sent, cut on receive and dropped on transmit: for tests and the log at close. */
    public VirtioNetCounters counters() {
        return new VirtioNetCounters(rxFrames.get(), txFrames.get(), rxTruncated.get(), txDropped.get());
    }

    @Override
    public synchronized void activate(VirtioQueues queues) {
        for (NetBackend b : backends) {
            try {
                b.enableOffloads(queues.features());
            } catch (IOException e) {
                log.warn("{}: could not enable receive offloads on {}: {}", name, b.describe(), e.getMessage());
            }
        }
        // Without MQ the driver knows one pair and the control queue is queue 2.
        int pairs = queues.negotiated(VirtioNetFeatures.MQ) ? backends.size() : 1;
        usablePairs = pairs;
        setActivePairs(1); // the spec's default until the driver sends VQ_PAIRS_SET
        running = true;
        for (int k = 0; k < pairs; k++) {
            int pair = k;
            NetBackend b = backends.get(k);
            if (queues.queue(2 * k + 1) != null) workers.add(QueueWorker.start(name + "-tx" + k, queues, 2 * k + 1, c -> transmit(b, c)));
            if (queues.queue(2 * k) != null) {
                rxThreads.add(Thread.ofPlatform().name(name + "-rx" + k).daemon().start(() -> receiveLoop(queues, pair, b)));
            }
        }
        if (queues.queue(2 * pairs) != null) workers.add(QueueWorker.start(name + "-ctrl", queues, 2 * pairs, this::control));
    }


    /** Pairs 0..n-1 receive; the backends of the others stop taking frames. Called under {@code this}. */
    private void setActivePairs(int n) {
        activePairs = n;
        for (int k = 1; k < backends.size(); k++) {
            try {
                backends.get(k).setQueueEnabled(k < n);
            } catch (IOException e) {
                log.warn("{}: queue pair {}: {}", name, k, e.getMessage());
            }
        }
        notifyAll();
    }

    private synchronized boolean awaitActive(int pair) throws InterruptedException {
        while (running && pair >= activePairs) wait(200);
        return running;
    }

    @Override
    public void reset() {
        // Workers and receive threads are stopped without holding this object's lock: they take it themselves
        // (VQ_PAIRS_SET, waiting for their pair), so joining them under it could deadlock.
        List<QueueWorker> stoppingWorkers;
        List<Thread> stoppingThreads;
        synchronized (this) {
            running = false;
            notifyAll();
            stoppingWorkers = List.copyOf(workers);
            stoppingThreads = List.copyOf(rxThreads);
            workers.clear();
            rxThreads.clear();
        }
        for (QueueWorker w : stoppingWorkers) w.close();
        // A receive thread may be waiting for a frame: wake it rather than wait out its poll.
        if (!stoppingThreads.isEmpty()) for (NetBackend b : backends) b.wakeReceiver();
        for (Thread t : stoppingThreads) {
            try {
                t.join();
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

    int transmit(DescriptorChain chain) {
        return transmit(backend(), chain);
    }

    int transmit(NetBackend backend, DescriptorChain chain) {
        GuestBuffers out = chain.readable();
        long length = out.length();
        if (length < HEADER + 14 || length > HEADER + MAX_FRAME) {
            txDropped.incrementAndGet();
            log.debug("{}: dropped a {}-byte frame from the guest", name, length - HEADER);
            return 0;
        }
        try {
            backend.send(backend.vnetHeader() ? out.slices(0, length) : out.slices(HEADER, length - HEADER));
            txFrames.incrementAndGet();
        } catch (IOException e) {
            txDropped.incrementAndGet();
            log.debug("{}: sending to {} failed: {}", name, backend.describe(), e.getMessage());
        }
        return 0;
    }

    // ---- receive ----

    private void receiveLoop(VirtioQueues queues, int pair, NetBackend backend) {
        int rx = 2 * pair;
        SplitQueue queue = queues.queue(rx);
        boolean mergeable = queues.negotiated(VirtioNetFeatures.MRG_RXBUF);
        boolean bigFrames = queues.negotiated(VirtioNetFeatures.GUEST_TSO4) || queues.negotiated(VirtioNetFeatures.GUEST_TSO6);
        long need = HEADER + (bigFrames ? MAX_FRAME : MTU_FRAME + 4);
        List<DescriptorChain> posted = new ArrayList<>();
        long capacity = 0;
        int sinceInterrupt = 0;
        try {
            while (running) {
                if (pair > 0 && !awaitActive(pair)) return;
                if (!backend.awaitReadable(200)) continue;
                // Collect the guest's receive buffers until one frame surely fits.
                DescriptorChain chain;
                while ((posted.isEmpty() || (mergeable && capacity < need)) && (chain = queue.pop()) != null) {
                    if (chain.writable().length() < HEADER) {
                        throw new VirtqueueException("receive chain " + chain.head() + " has " + chain.writable().length()
                                + " writable bytes, less than the " + HEADER + "-byte header");
                    }
                    posted.add(chain);
                    capacity += chain.writable().length();
                }
                if (posted.isEmpty() || (mergeable && capacity < need)) {
                    // No room: leave the frame in the backend until the guest posts buffers.
                    if (queue.enableNotifications()) continue;
                    // Tell the driver of the frames already delivered: it refills only once it has seen them.
                    if (queue.needsInterrupt()) {
                        queues.interrupt(rx);
                        sinceInterrupt = 0;
                    }
                    if (!queues.doorbell(rx).await()) return;
                    queue.disableNotifications();
                    continue;
                }
                int used = receiveOne(backend, queue, posted, mergeable);
                if (used < 0) continue;
                for (int i = 0; i < used; i++) capacity -= posted.remove(0).writable().length();
                // Interrupt once the backend has nothing more, or every 64 frames under a steady stream.
                if ((++sinceInterrupt >= 64 || !backend.awaitReadable(0)) && queue.needsInterrupt()) {
                    queues.interrupt(rx);
                    sinceInterrupt = 0;
                }
            }
        } catch (VirtqueueException e) {
            queues.fail("receive queue: " + e.getMessage());
        } catch (IOException e) {
            log.error("{}: receiving from {} failed, receive stopped: {}", name, backend.describe(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("{}: receive failed", name, e);
            queues.fail("receive queue: device error " + e);
        }
    }

    /** Reads one frame into the posted chains; returns how many chains it used (-1: nothing was waiting). */
    private int receiveOne(NetBackend backend, SplitQueue queue, List<DescriptorChain> posted, boolean mergeable) throws IOException {
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
        byte[] numBuffers = {(byte) used, (byte) (used >>> 8)};
        if (backend.vnetHeader()) {
            chains.get(0).writable().write(10, numBuffers);
        } else {
            byte[] header = new byte[HEADER];
            System.arraycopy(numBuffers, 0, header, 10, 2);
            chains.get(0).writable().write(0, header);
        }
        // All buffers of the frame at once: a driver that sees the first looks for the rest straight away.
        queue.addUsed(completions);
        rxFrames.incrementAndGet();
        return used;
    }

    // ---- control queue ----

    int control(DescriptorChain chain) {
        GuestBuffers in = chain.readable(), out = chain.writable();
        if (in.length() < 2 || out.length() < 1) return 0;
        byte[] command = new byte[(int) Math.min(in.length(), 4096)];
        in.read(0, command);
        int ack = ACK_ERR;
        int cls = command[0] & 0xff, cmd = command[1] & 0xff;
        if (cls == CTRL_RX_CLASS && command.length >= 3 && cmd <= 5) {
            if (cmd == 0) promiscuous = command[2] != 0;
            ack = ACK_OK; // promiscuous, allmulti, alluni, nomulti, nouni, nobcast: the backend filters nothing
        } else if (cls == CTRL_MQ_CLASS && cmd == 0 && command.length >= 4) {
            // VQ_PAIRS_SET: how many pairs the driver uses from now on.
            int pairs = (command[2] & 0xff) | (command[3] & 0xff) << 8;
            synchronized (this) {
                if (pairs >= 1 && pairs <= usablePairs) {
                    setActivePairs(pairs);
                    ack = ACK_OK;
                }
            }
        } else if (cls == CTRL_MAC_CLASS && (cmd == 0 || (cmd == 1 && command.length >= 8))) {
            ack = ACK_OK; // MAC table / address set: accepted (frames for other MACs are not filtered)
        }
        out.write(out.length() - 1, new byte[] {(byte) ack});
        return 1;
    }
}
