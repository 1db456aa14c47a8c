package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.virtio.CommonConfig.*;
import static org.jhyve.devices.virtio.VirtioPciLayout.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.devices.log.RecordingLogger;
import org.jhyve.devices.net.LoopbackNetBackend;
import org.jhyve.devices.net.NetBackend;
import org.jhyve.devices.net.VirtioNetFeatures;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.devices.virtio.VirtqueueDriver.Used;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciFunction;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * virtio-net as a driver meets it: through the virtio PCI transport on a test machine (heap guest memory, no
 * KVM), with the driver side of the three queues played by {@link VirtqueueDriver} and the host side by a
 * {@link LoopbackNetBackend}. Interrupts go through MSI-X: vector 0 for configuration changes, 1 + queue for
 * the queues.
 */
class VirtioNetTest {
    static final PciAddress SLOT = new PciAddress(0, 5, 0);
    static final byte[] MAC = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    static final int HDR = 12;
    static final long MSI_ADDRESS = 0xfee0_0000L;
    static final int RX = 0, TX = 1, CTRL = 2;
    static final TestMachine.Msi CONFIG_MSI = new TestMachine.Msi(MSI_ADDRESS, 0x40);
    static final long VERSION_1 = 1L << VirtioStatus.F_VERSION_1;
    static final int RXBUF = 1526;

    final TestMachine machine = new TestMachine(4L << 20);
    final List<Throwable> escaped = new CopyOnWriteArrayList<>();
    Thread.UncaughtExceptionHandler previousHandler;
    LoopbackNetBackend backend;
    VirtioNet net;
    VirtioPciTransport transport;
    long bar0;
    VirtqueueDriver rx, tx, ctrl;

    static long bit(int b) { return 1L << b; }

    @BeforeEach
    void catchEscapingExceptions() {
        previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> escaped.add(e));
    }

    @AfterEach
    void close() {
        try {
            if (transport != null) transport.close();
            if (backend != null) assertThat(backend.closed()).as("closing the device closes its backend").isTrue();
            assertThat(escaped).as("exceptions escaping device threads").isEmpty();
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previousHandler);
        }
    }

    /** Puts a virtio-net over a fresh loopback backend in slot 5 and lays out its three queues in guest RAM. */
    void plug(boolean vnetHeader) {
        plug(vnetHeader, machine);
    }

    /** As {@link #plug(boolean)}, the device seeing the machine through {@code view} (its memory, its MSI sink). */
    void plug(boolean vnetHeader, org.jhyve.vm.MachineContext view) {
        backend = new LoopbackNetBackend(vnetHeader);
        plug(backend, view, new GuestErrorLog(new RecordingLogger(), "vnet"));
    }

    /** Puts a virtio-net over {@code nic} in slot 5, reporting to {@code errors}; {@link #backend} is left to the caller. */
    void plug(NetBackend nic, org.jhyve.vm.MachineContext view, GuestErrorLog errors) {
        net = new VirtioNet("vnet", List.of(nic), MAC, errors);
        transport = new VirtioPciTransport("vnet", net, view, machine.irq(21), 21, errors);
        machine.pci().add(SLOT, transport);
        bar0 = transport.barAddress(0);
        cfgWrite(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
        rx = new VirtqueueDriver(machine.memory(), 0x1000, 128, 0x10000, 0x100000);
        tx = new VirtqueueDriver(machine.memory(), 0x3000, 64, 0x100000, 0x280000);
        ctrl = new VirtqueueDriver(machine.memory(), 0x5000, 16, 0x280000, 0x300000);
    }

    int cfgRead(int offset, int size) { return machine.pci().configRead(0, 5, 0, offset, size); }

    void cfgWrite(int offset, int size, int value) { machine.pci().configWrite(0, 5, 0, offset, size, value); }

    long read(long offset, int size) { return machine.mmio().read(bar0 + offset, size); }

    void write(long offset, int size, long value) { machine.mmio().write(bar0 + offset, size, value); }

    int status() { return (int) read(COMMON + DEVICE_STATUS, 1); }

    /** Negotiates {@code features} like Linux, sets up MSI-X and the three queues, and sets DRIVER_OK. */
    void start(long features) {
        write(COMMON + DEVICE_STATUS, 1, 0);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 0);
        write(COMMON + DRIVER_FEATURE, 4, features & 0xffffffffL);
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 1);
        write(COMMON + DRIVER_FEATURE, 4, features >>> 32);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        assertThat(status() & VirtioStatus.FEATURES_OK).as("features 0x%x accepted", features).isNotZero();
        cfgWrite(msixCap() + 2, 2, 0x8000);
        for (int v = 0; v < 4; v++) {
            long entry = MSIX_TABLE + 16L * v;
            write(entry, 4, MSI_ADDRESS);
            write(entry + 4, 4, 0);
            write(entry + 8, 4, 0x40 + v);
            write(entry + 12, 4, 0);
        }
        write(COMMON + CONFIG_MSIX_VECTOR, 2, 0);
        VirtqueueDriver[] drivers = {rx, tx, ctrl};
        for (int q = 0; q < 3; q++) {
            write(COMMON + QUEUE_SELECT, 2, q);
            assertThat(read(COMMON + QUEUE_SIZE, 2)).as("queue %d max size", q).isEqualTo(256);
            write(COMMON + QUEUE_SIZE, 2, drivers[q].size());
            write(COMMON + QUEUE_MSIX_VECTOR, 2, 1 + q);
            write(COMMON + QUEUE_DESC, 8, drivers[q].layout().descriptorTable());
            write(COMMON + QUEUE_DRIVER, 8, drivers[q].layout().availRing());
            write(COMMON + QUEUE_DEVICE, 8, drivers[q].layout().usedRing());
            write(COMMON + QUEUE_ENABLE, 2, 1);
        }
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK | VirtioStatus.DRIVER_OK);
        assertThat(status() & VirtioStatus.DEVICE_NEEDS_RESET).isZero();
    }

    int msixCap() {
        for (int cap = cfgRead(0x34, 1); cap != 0; cap = cfgRead(cap + 1, 1)) if (cfgRead(cap, 1) == 0x11) return cap;
        throw new AssertionError("no MSI-X capability");
    }

    void kick(int queue) { write(NOTIFY + NOTIFY_MULTIPLIER * queue, 2, queue); }

    static TestMachine.Msi queueMsi(int queue) { return new TestMachine.Msi(MSI_ADDRESS, 0x41 + queue); }

    long msiCount(TestMachine.Msi msi) { return machine.msis().stream().filter(msi::equals).count(); }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(1);
        }
    }

    // ---- frames ----

    /** An Ethernet frame of {@code length} bytes to this NIC, with a payload pattern that depends on {@code seed}. */
    static byte[] frame(int length, int seed) {
        byte[] f = new byte[length];
        for (int i = 0; i < length; i++) f[i] = (byte) (i * 31 + seed * 7 + 1);
        System.arraycopy(MAC, 0, f, 0, 6);
        System.arraycopy(new byte[] {0x02, (byte) 0xaa, (byte) 0xbb, (byte) 0xcc, (byte) 0xdd, (byte) 0xee}, 0, f, 6, 6);
        if (length >= 14) {
            f[12] = 0x08;
            f[13] = 0x00;
        }
        return f;
    }

    /** A virtio_net_hdr_v1, little-endian. */
    static byte[] header(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset, int numBuffers) {
        return ByteBuffer.allocate(HDR).order(ByteOrder.LITTLE_ENDIAN).put((byte) flags).put((byte) gsoType).putShort((short) hdrLen)
                .putShort((short) gsoSize).putShort((short) csumStart).putShort((short) csumOffset).putShort((short) numBuffers).array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** {@code bytes} as device-readable buffers of the tx queue, cut at the stream offsets {@code cuts}. */
    List<Buf> txBuffers(byte[] bytes, int... cuts) {
        List<Buf> bufs = new ArrayList<>();
        int from = 0;
        int[] ends = Arrays.copyOf(cuts, cuts.length + 1);
        ends[cuts.length] = bytes.length;
        for (int end : ends) {
            bufs.add(Buf.in(tx.allocate(Arrays.copyOfRange(bytes, from, end)), end - from));
            from = end;
        }
        return bufs;
    }

    /** Posts a device-writable receive buffer of {@code length} bytes filled with 0x5a; returns its address. */
    long postRx(int length) {
        long at = rx.allocate(length);
        machine.memory().fill(at, length, (byte) 0x5a);
        rx.addChain(List.of(Buf.out(at, length)));
        return at;
    }

    byte[] mem(long at, int length) { return machine.memory().readBytes(at, length); }

    // ---- identity, features and configuration ----

    @Test
    void itIsAnEthernetControllerOfferingMacStatusMergeableBuffersAndTheControlQueue() {
        plug(false);
        assertThat(cfgRead(PciFunction.DEVICE_ID, 2)).isEqualTo(0x1041);
        assertThat(cfgRead(PciFunction.SUBSYSTEM_ID, 2)).isEqualTo(0x41);
        assertThat(cfgRead(0x08, 4) >>> 8).isEqualTo(0x020000);
        long expected = bit(VirtioNetFeatures.MAC) | bit(VirtioNetFeatures.STATUS) | bit(VirtioNetFeatures.MRG_RXBUF)
                | bit(VirtioNetFeatures.CTRL_VQ) | bit(VirtioNetFeatures.CTRL_RX) | bit(VirtioNetFeatures.CTRL_MAC_ADDR);
        assertThat(expected).isEqualTo(0x0087_8020L);
        assertThat(net.deviceFeatures()).as("no offloads without a vnet header").isEqualTo(expected);
        assertThat(net.queueCount()).isEqualTo(3);
        // As the driver reads them: with the transport's INDIRECT_DESC, EVENT_IDX and VERSION_1.
        write(COMMON + DEVICE_FEATURE_SELECT, 4, 0);
        assertThat(read(COMMON + DEVICE_FEATURE, 4)).isEqualTo(expected | bit(VirtioStatus.F_INDIRECT_DESC) | bit(VirtioStatus.F_EVENT_IDX));
        write(COMMON + DEVICE_FEATURE_SELECT, 4, 1);
        assertThat(read(COMMON + DEVICE_FEATURE, 4)).isEqualTo(1);
    }

    @Test
    void aBackendWithTheVnetHeaderAddsItsOffloadsAndLearnsWhichTheGuestTook() throws Exception {
        plug(true);
        long offloads = bit(VirtioNetFeatures.CSUM) | bit(VirtioNetFeatures.GUEST_CSUM) | bit(VirtioNetFeatures.GUEST_TSO4)
                | bit(VirtioNetFeatures.GUEST_TSO6) | bit(VirtioNetFeatures.GUEST_ECN) | bit(VirtioNetFeatures.HOST_TSO4)
                | bit(VirtioNetFeatures.HOST_TSO6) | bit(VirtioNetFeatures.HOST_ECN);
        assertThat(net.deviceFeatures()).isEqualTo(0x0087_8020L | offloads).isEqualTo(0x0087_bba3L);
        long features = VERSION_1 | bit(VirtioNetFeatures.GUEST_CSUM) | bit(VirtioNetFeatures.GUEST_TSO4) | bit(VirtioNetFeatures.MRG_RXBUF);
        start(features);
        await(() -> backend.enabledOffloads() != -1, "enableOffloads");
        assertThat(backend.enabledOffloads()).isEqualTo(features);
    }

    @Test
    void theConfigurationSpaceHoldsTheMacLinkUpAndOneQueuePairAtEveryOffsetAndSize() {
        plug(false);
        byte[] config = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 1, 0, 1, 0};
        assertThat(net.configSize()).isEqualTo(10);
        int checked = 0;
        for (int size : new int[] {1, 2, 4, 8}) {
            for (int offset = 0; offset + size <= config.length; offset++) {
                long expected = 0;
                for (int i = 0; i < size; i++) expected |= (config[offset + i] & 0xffL) << (8 * i);
                assertThat(net.configRead(offset, size)).as("configRead(%d, %d)", offset, size).isEqualTo(expected);
                if (size <= 4) {
                    assertThat(read(DEVICE_CONFIG + offset, size)).as("BAR0 read at %d, size %d", offset, size).isEqualTo(expected);
                }
                checked++;
            }
        }
        assertThat(checked).isEqualTo(10 + 9 + 7 + 3);
        assertThat(net.configRead(0, 4)).isEqualTo(0x3322_1102L);
        assertThat(net.configRead(4, 2)).isEqualTo(0x5544);
        assertThat(net.configRead(6, 2)).as("status: VIRTIO_NET_S_LINK_UP").isEqualTo(1);
        assertThat(net.configRead(8, 2)).as("max_virtqueue_pairs").isEqualTo(1);
        assertThat(read(DEVICE_CONFIG + 8, 4)).as("past the end").isZero();
        write(DEVICE_CONFIG, 4, 0xffff_ffffL);
        assertThat(read(DEVICE_CONFIG, 4)).as("the MAC is read-only").isEqualTo(0x3322_1102L);
    }

    // ---- transmit ----

    @Test
    void aFrameSplitOverSeveralDescriptorsReachesTheBackendWithoutItsHeader() throws Exception {
        plug(false);
        start(VERSION_1);
        byte[] f = frame(60, 1);
        // The header itself split too (5 + 7 bytes), then the frame in two pieces. (Checksum fields without
        // NEEDS_CSUM mean nothing; NEEDS_CSUM itself would need VIRTIO_NET_F_CSUM.)
        int head = tx.addChain(txBuffers(concat(header(0, 0, 0, 0, 34, 16, 0), f), 5, 12, 19));
        kick(TX);
        await(() -> tx.usedIndex() == 1, "the transmit to complete");
        assertThat(tx.takeUsed()).containsExactly(new Used(head, 0));
        assertThat(backend.sent()).hasSize(1);
        assertThat(backend.sent().get(0)).isEqualTo(f);
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(0, 1, 0, 0));
        await(() -> msiCount(queueMsi(TX)) == 1, "the transmit interrupt");
    }

    @Test
    void withAVnetHeaderBackendTheHeaderPassesThroughWithTheFrame() throws Exception {
        plug(true);
        start(VERSION_1 | bit(VirtioNetFeatures.CSUM) | bit(VirtioNetFeatures.HOST_TSO4));
        // A TSO frame bigger than the MTU: NEEDS_CSUM, GSO_TCPV4, hdr_len 54, gso_size 1448, csum at 34+16.
        byte[] bytes = concat(header(1, 1, 54, 1448, 34, 16, 0), frame(3000, 2));
        int head = tx.addChain(txBuffers(bytes, 12, 1000));
        kick(TX);
        await(() -> tx.usedIndex() == 1, "the transmit to complete");
        assertThat(tx.takeUsed()).containsExactly(new Used(head, 0));
        assertThat(backend.sent()).hasSize(1);
        assertThat(backend.sent().get(0)).hasSize(3012).isEqualTo(bytes);
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(0, 1, 0, 0));
    }

    @Test
    void anIndirectChainIsSentLikeADirectOne() throws Exception {
        plug(false);
        start(VERSION_1 | bit(VirtioStatus.F_INDIRECT_DESC));
        byte[] f = frame(100, 3);
        int head = tx.addIndirectChain(txBuffers(concat(new byte[HDR], f), 12, 40, 41));
        kick(TX);
        await(() -> tx.usedIndex() == 1, "the transmit to complete");
        assertThat(tx.takeUsed()).containsExactly(new Used(head, 0));
        assertThat(backend.sent()).hasSize(1);
        assertThat(backend.sent().get(0)).isEqualTo(f);
    }

    @Test
    void framesShorterThanAnEthernetHeaderOrLongerThanTheLargestAreDroppedAndCounted() throws Exception {
        plug(false);
        start(VERSION_1);
        byte[] f14 = frame(14, 4), fMax = frame(VirtioNet.MAX_FRAME, 5);
        int tooShort = tx.addChain(txBuffers(concat(new byte[HDR], frame(13, 6)), 12));
        int shortest = tx.addChain(txBuffers(concat(new byte[HDR], f14), 12));
        int tooLong = tx.addChain(txBuffers(concat(new byte[HDR], frame(VirtioNet.MAX_FRAME + 1, 7)), 12));
        int longest = tx.addChain(txBuffers(concat(new byte[HDR], fMax), 12));
        int headerOnly = tx.addChain(txBuffers(new byte[HDR]));
        kick(TX);
        await(() -> tx.usedIndex() == 5, "all five transmits to complete");
        assertThat(tx.takeUsed()).containsExactly(new Used(tooShort, 0), new Used(shortest, 0), new Used(tooLong, 0),
                new Used(longest, 0), new Used(headerOnly, 0));
        List<byte[]> sent = backend.sent();
        assertThat(sent).hasSize(2);
        assertThat(sent.get(0)).isEqualTo(f14);
        assertThat(sent.get(1)).hasSize(65550).isEqualTo(fMax);
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(0, 2, 0, 3));
    }

    @Test
    void framesWhoseHeaderAsksForOffloadsNotNegotiatedOrPointsOutsideTheFrameAreDroppedAndCounted() throws Exception {
        plug(true);
        start(VERSION_1 | bit(VirtioNetFeatures.CSUM) | bit(VirtioNetFeatures.HOST_TSO4));
        byte[] f = frame(3000, 2);
        record Case(String what, byte[] header, boolean sent) {}
        List<Case> cases = List.of(
                new Case("TSO, checksum inside", header(1, 1, 54, 1448, 34, 16, 0), true),
                new Case("checksum in the last two bytes", header(1, 0, 0, 0, 2980, 18, 0), true),
                new Case("checksum one byte past the end", header(1, 0, 0, 0, 2981, 18, 0), false),
                new Case("checksum start and offset at their largest", header(1, 0, 0, 0, 0xffff, 0xffff, 0), false),
                new Case("gso_size 0", header(1, 1, 54, 0, 34, 16, 0), false),
                new Case("hdr_len past the frame", header(1, 1, 3001, 1448, 34, 16, 0), false),
                new Case("TCPv6 segmentation, not negotiated", header(1, 4, 74, 1428, 54, 16, 0), false),
                new Case("UDP fragmentation, never offered", header(1, 3, 42, 1472, 34, 6, 0), false),
                new Case("unknown segmentation type", header(1, 9, 54, 1448, 34, 16, 0), false),
                new Case("ECN, not negotiated", header(1, 0x81, 54, 1448, 34, 16, 0), false),
                new Case("ECN without segmentation", header(0, 0x80, 0, 0, 0, 0, 0), false),
                new Case("unknown flags", header(0x80, 0, 0, 0, 0, 0, 0), false),
                new Case("RSC_INFO, for receive only", header(4, 0, 0, 0, 0, 0, 0), false),
                new Case("no offloads", header(0, 0, 0, 0, 0, 0, 0x1234), true));
        List<Integer> heads = new ArrayList<>();
        for (Case k : cases) heads.add(tx.addChain(txBuffers(concat(k.header(), f), 12, 100)));
        kick(TX);
        await(() -> tx.usedIndex() == cases.size(), "every frame returned");
        assertThat(tx.takeUsed()).extracting(Used::head).containsExactlyElementsOf(heads);
        List<byte[]> expected = cases.stream().filter(Case::sent).map(k -> concat(k.header(), f)).toList();
        assertThat(backend.sent()).as("sent").hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) assertThat(backend.sent().get(i)).isEqualTo(expected.get(i));
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(0, expected.size(), 0, cases.size() - expected.size()));
        assertThat(status() & VirtioStatus.DEVICE_NEEDS_RESET).isZero();
    }

    @Test
    void withoutAVnetHeaderBackendAFrameAskingForAChecksumOrSegmentationIsDropped() throws Exception {
        plug(false);
        start(VERSION_1);
        byte[] f = frame(3000, 3);
        int csum = tx.addChain(txBuffers(concat(header(1, 0, 0, 0, 34, 16, 0), f), 12));
        int tso = tx.addChain(txBuffers(concat(header(0, 1, 54, 1448, 0, 0, 0), f), 12));
        // Zero-length descriptors anywhere in a chain carry nothing and are skipped.
        int plain = tx.addChain(List.of(Buf.in(tx.allocate(8), 0), Buf.in(tx.allocate(new byte[HDR]), HDR), Buf.in(tx.allocate(8), 0),
                Buf.in(tx.allocate(f), f.length), Buf.in(tx.allocate(8), 0)));
        int fiveBytes = tx.addChain(List.of(Buf.in(tx.allocate(5), 5)));
        kick(TX);
        await(() -> tx.usedIndex() == 4, "every frame returned");
        assertThat(tx.takeUsed()).containsExactly(new Used(csum, 0), new Used(tso, 0), new Used(plain, 0), new Used(fiveBytes, 0));
        assertThat(backend.sent()).hasSize(1);
        assertThat(backend.sent().get(0)).isEqualTo(f);
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(0, 1, 0, 3));
    }

    // ---- receive ----

    @Test
    void aResetWhileAReceiveIsStuckInTheBackendReturnsStaysPendingAndPublishesNothingAfter() throws Exception {
        BreakingNetBackend nic = new BreakingNetBackend(new LoopbackNetBackend(false));
        plug(nic, machine, new GuestErrorLog(new RecordingLogger(), "vnet"));
        start(VERSION_1);
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        nic.stallReceives(gate);
        postRx(RXBUF);
        assertThat(nic.inner.deliver(frame(60, 3))).isTrue();
        assertThat(nic.stalled.await(5, java.util.concurrent.TimeUnit.SECONDS)).as("the receive is stuck in the backend").isTrue();

        // The driver resets the device from a vCPU: the write returns though the backend does not.
        java.util.concurrent.ExecutorService vcpu = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            vcpu.submit(() -> write(COMMON + DEVICE_STATUS, 1, 0)).get(5, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            vcpu.shutdownNow();
        }
        assertThat(status()).as("the reset is not complete while the receive thread is inside its backend").isNotZero();

        gate.countDown();
        await(() -> status() == 0, "the reset to complete once the receive returned");
        assertThat(rx.usedIndex()).as("the frame read after the reset is not published on the old ring").isZero();
        assertThat(net.counters().received()).isZero();
    }

    @Test
    void aReceivedFrameLandsAfterAnEmptyHeaderWithOneBuffer() throws Exception {
        plug(false);
        start(VERSION_1);
        long buf = postRx(RXBUF);
        byte[] f = frame(60, 8);
        assertThat(backend.deliver(f)).isTrue();
        await(() -> rx.usedIndex() == 1, "the frame");
        assertThat(rx.takeUsed()).containsExactly(new Used(0, HDR + 60));
        assertThat(mem(buf, HDR)).isEqualTo(header(0, 0, 0, 0, 0, 0, 1));
        assertThat(mem(buf + HDR, 60)).isEqualTo(f);
        assertThat(machine.memory().readByte(buf + HDR + 60)).as("nothing written past the frame").isEqualTo((byte) 0x5a);
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(1, 0, 0, 0));
        await(() -> msiCount(queueMsi(RX)) == 1, "the receive interrupt");
    }

    @Test
    void withAVnetHeaderBackendTheHostsHeaderReachesTheGuestWithNumBuffersSet() throws Exception {
        plug(true);
        start(VERSION_1 | bit(VirtioNetFeatures.GUEST_CSUM));
        // Header and data in separate descriptors, as Linux posts them without mergeable buffers.
        long hdr = rx.allocate(HDR), data = rx.allocate(1514);
        machine.memory().fill(hdr, HDR, (byte) 0x5a);
        int head = rx.addChain(List.of(Buf.out(hdr, HDR), Buf.out(data, 1514)));
        byte[] f = frame(100, 9);
        backend.deliver(concat(header(2, 0, 0, 0, 0, 0, 0x7777), f)); // DATA_VALID
        await(() -> rx.usedIndex() == 1, "the frame");
        assertThat(rx.takeUsed()).containsExactly(new Used(head, HDR + 100));
        assertThat(mem(hdr, HDR)).isEqualTo(header(2, 0, 0, 0, 0, 0, 1));
        assertThat(mem(data, 100)).isEqualTo(f);
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(1, 0, 0, 0));
    }

    @Test
    void withMergeableBuffersALargeFrameSpansSeveralBuffers() throws Exception {
        plug(true);
        start(VERSION_1 | bit(VirtioNetFeatures.MRG_RXBUF) | bit(VirtioNetFeatures.GUEST_CSUM) | bit(VirtioNetFeatures.GUEST_TSO4));
        // With GUEST_TSO4 the device waits for room for a 64 KiB frame: 43 buffers of 1526 bytes.
        long[] bufs = new long[64];
        for (int i = 0; i < bufs.length; i++) bufs[i] = postRx(RXBUF);
        byte[] big = frame(4000, 10), small = frame(60, 11);
        backend.deliver(concat(header(0, 0, 0, 0, 0, 0, 0xffff), big));
        backend.deliver(concat(header(0, 0, 0, 0, 0, 0, 0xffff), small));
        kick(RX);
        await(() -> rx.usedIndex() == 4, "both frames");
        List<Used> used = rx.takeUsed();
        assertThat(used).containsExactly(new Used(0, RXBUF), new Used(1, RXBUF), new Used(2, 4012 - 2 * RXBUF), new Used(3, HDR + 60));
        assertThat(used.subList(0, 3).stream().mapToInt(Used::length).sum()).isEqualTo(HDR + 4000);
        assertThat(mem(bufs[0], HDR)).isEqualTo(header(0, 0, 0, 0, 0, 0, 3));
        byte[] got = concat(concat(mem(bufs[0] + HDR, RXBUF - HDR), mem(bufs[1], RXBUF)), mem(bufs[2], 4012 - 2 * RXBUF));
        assertThat(got).isEqualTo(big);
        assertThat(machine.memory().readByte(bufs[2] + 4012 - 2 * RXBUF)).isEqualTo((byte) 0x5a);
        assertThat(mem(bufs[3], HDR)).isEqualTo(header(0, 0, 0, 0, 0, 0, 1));
        assertThat(mem(bufs[3] + HDR, 60)).isEqualTo(small);
        assertThat(mem(bufs[4], 16)).as("untouched").containsOnly((byte) 0x5a);
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(2, 0, 0, 0));
    }

    @Test
    void withMergeableBuffersAndNoOffloadsAFullSizeFrameFitsOneBuffer() throws Exception {
        plug(false);
        start(VERSION_1 | bit(VirtioNetFeatures.MRG_RXBUF));
        long[] bufs = {postRx(RXBUF), postRx(RXBUF), postRx(RXBUF)};
        byte[] full = frame(1514, 12), small = frame(60, 13);
        backend.deliver(full);
        backend.deliver(small);
        await(() -> rx.usedIndex() == 2, "both frames");
        assertThat(rx.takeUsed()).containsExactly(new Used(0, RXBUF), new Used(1, HDR + 60));
        assertThat(mem(bufs[0], HDR)).isEqualTo(header(0, 0, 0, 0, 0, 0, 1));
        assertThat(mem(bufs[0] + HDR, 1514)).isEqualTo(full);
        assertThat(mem(bufs[1], HDR)).isEqualTo(header(0, 0, 0, 0, 0, 0, 1));
        assertThat(mem(bufs[1] + HDR, 60)).isEqualTo(small);
        assertThat(net.counters().received()).isEqualTo(2);
    }

    @Test
    void numBuffersIsInTheHeaderBeforeTheUsedIndexPublishesTheFrameAndAFrameIsPublishedWhole() throws Exception {
        RecordingGuestMemory memory = new RecordingGuestMemory(machine.memory());
        plug(true, MachineView.withMemory(machine, memory));
        long[] bufs = new long[64];
        for (int i = 0; i < bufs.length; i++) bufs[i] = postRx(RXBUF);
        // What a driver polling the used ring sees at each index the device publishes: the index, and
        // num_buffers in the header of the frame that index completes.
        long usedIdx = rx.layout().usedRing() + 2;
        List<String> seen = new CopyOnWriteArrayList<>();
        memory.watch(w -> {
            if (!w.covers(usedIdx, 2)) return;
            int idx = Short.toUnsignedInt(memory.inner.readShort(usedIdx));
            long header = idx <= 3 ? bufs[0] : bufs[3];
            seen.add(idx + ":" + Short.toUnsignedInt(memory.inner.readShort(header + 10)));
        });
        start(VERSION_1 | bit(VirtioNetFeatures.MRG_RXBUF) | bit(VirtioNetFeatures.GUEST_CSUM) | bit(VirtioNetFeatures.GUEST_TSO4));
        // 4012 bytes span three 1526-byte buffers; the tap's header leaves num_buffers as the guest had it.
        backend.deliver(concat(header(0, 0, 0, 0, 0, 0, 0xffff), frame(4000, 10)));
        backend.deliver(concat(header(0, 0, 0, 0, 0, 0, 0xffff), frame(60, 11)));
        kick(RX);
        await(() -> rx.usedIndex() == 4, "both frames");
        // One index per frame (Linux drops a merged frame whose later buffers are not yet used), and num_buffers
        // already there: 3 for the first frame, 1 for the second.
        assertThat(seen).containsExactly("3:3", "4:1");
        // The used elements of the first frame were all written before the index moved.
        List<RecordingGuestMemory.Write> writes = memory.writes();
        int publish = writes.stream().filter(w -> w.covers(usedIdx, 2)).findFirst().orElseThrow().n();
        for (int e = 0; e < 3; e++) {
            long element = rx.layout().usedRing() + 4 + 8L * e;
            assertThat(writes.stream().filter(w -> w.covers(element, 8) || w.covers(element, 4)).mapToInt(RecordingGuestMemory.Write::n).max().orElseThrow())
                    .as("used element %d written before the index", e).isLessThan(publish);
        }
    }

    @Test
    void aFrameLargerThanTheBufferIsCutAndCounted() throws Exception {
        plug(false);
        start(VERSION_1);
        long buf = postRx(100);
        byte[] f = frame(200, 14);
        backend.deliver(f);
        await(() -> rx.usedIndex() == 1, "the frame");
        assertThat(rx.takeUsed()).containsExactly(new Used(0, 100));
        assertThat(mem(buf + HDR, 100 - HDR)).isEqualTo(Arrays.copyOf(f, 100 - HDR));
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(1, 0, 1, 0));
    }

    @Test
    void withoutReceiveBuffersFramesWaitInTheBackendUntilTheGuestPostsSome() throws Exception {
        plug(false);
        start(VERSION_1);
        byte[][] frames = {frame(60, 20), frame(61, 21), frame(62, 22)};
        for (byte[] f : frames) assertThat(backend.deliver(f)).isTrue();
        Thread.sleep(100);
        assertThat(backend.waiting()).as("frames left in the backend").isEqualTo(3);
        assertThat(rx.usedIndex()).isZero();
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(0, 0, 0, 0));
        long[] bufs = {postRx(RXBUF), postRx(RXBUF), postRx(RXBUF)};
        kick(RX);
        await(() -> rx.usedIndex() == 3, "the three frames");
        assertThat(rx.takeUsed()).containsExactly(new Used(0, HDR + 60), new Used(1, HDR + 61), new Used(2, HDR + 62));
        for (int i = 0; i < 3; i++) assertThat(mem(bufs[i] + HDR, frames[i].length)).as("frame %d", i).isEqualTo(frames[i]);
        assertThat(backend.waiting()).isZero();
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(3, 0, 0, 0));
    }

    @Test
    void whenTheBuffersRunOutWhileFramesWaitTheDriverIsStillInterruptedForThoseDelivered() throws Exception {
        plug(false);
        for (int i = 0; i < 3; i++) backend.deliver(frame(60, 30 + i));
        postRx(RXBUF);
        postRx(RXBUF);
        start(VERSION_1);
        await(() -> rx.usedIndex() == 2, "two frames");
        // The driver learns of them only by this interrupt; without it, it never refills and receive stalls.
        await(() -> msiCount(queueMsi(RX)) == 1, "the receive interrupt");
        assertThat(backend.waiting()).isEqualTo(1);
        long third = postRx(RXBUF);
        kick(RX);
        await(() -> rx.usedIndex() == 3, "the third frame");
        assertThat(mem(third + HDR, 60)).isEqualTo(frame(60, 32));
        await(() -> msiCount(queueMsi(RX)) == 2, "the second receive interrupt");
    }

    // ---- control queue ----

    /** Sends a control command (class, command, data) and returns the ack byte the device wrote. */
    int control(int cls, int cmd, byte[] data) throws Exception {
        long command = ctrl.allocate(new byte[] {(byte) cls, (byte) cmd});
        long ack = ctrl.allocate(1);
        machine.memory().writeByte(ack, (byte) 0x7f);
        List<Buf> bufs = new ArrayList<>(List.of(Buf.in(command, 2)));
        if (data.length > 0) bufs.add(Buf.in(ctrl.allocate(data), data.length));
        bufs.add(Buf.out(ack, 1));
        int before = ctrl.usedIndex();
        int head = ctrl.addChain(bufs);
        kick(CTRL);
        await(() -> ctrl.usedIndex() == ((before + 1) & 0xffff), "the control command");
        assertThat(ctrl.takeUsed()).containsExactly(new Used(head, 1));
        return machine.memory().readByte(ack);
    }

    @Test
    void theControlQueueAcksReceiveModesAndMacCommandsAndRefusesTheRest() throws Exception {
        plug(false);
        start(VERSION_1 | bit(VirtioNetFeatures.CTRL_VQ) | bit(VirtioNetFeatures.CTRL_RX) | bit(VirtioNetFeatures.CTRL_MAC_ADDR));
        assertThat(control(0, 0, new byte[] {1})).as("RX PROMISC on").isEqualTo(VirtioNet.ACK_OK).isZero();
        assertThat(control(0, 0, new byte[] {0})).as("RX PROMISC off").isZero();
        assertThat(control(0, 1, new byte[] {1})).as("RX ALLMULTI").isZero();
        assertThat(control(1, 1, MAC)).as("MAC_ADDR_SET").isZero();
        assertThat(control(9, 0, new byte[] {1})).as("unknown class").isEqualTo(VirtioNet.ACK_ERR).isEqualTo(1);
        assertThat(control(0, 6, new byte[] {1})).as("unknown RX command").isEqualTo(1);
        assertThat(control(0, 0, new byte[0])).as("PROMISC without its data byte").isEqualTo(1);
        assertThat(control(1, 1, new byte[] {1, 2, 3})).as("MAC_ADDR_SET with half a MAC").isEqualTo(1);
    }

    /** A raw control chain of the given buffers; returns the used length and the ack byte (0x7f if untouched). */
    int[] controlRaw(List<Buf> bufs, long ack) throws Exception {
        int before = ctrl.usedIndex();
        int head = ctrl.addChain(bufs);
        kick(CTRL);
        await(() -> ctrl.usedIndex() == ((before + 1) & 0xffff), "the control command");
        Used u = ctrl.takeUsed().get(0);
        assertThat(u.head()).isEqualTo(head);
        return new int[] {u.length(), ack < 0 ? 0x7f : machine.memory().readByte(ack)};
    }

    static byte[] macTables(long unicast, int unicastBytes, long multicast, int multicastBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + unicastBytes + multicastBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt((int) unicast).put(new byte[unicastBytes]).putInt((int) multicast).put(new byte[multicastBytes]);
        return b.array();
    }

    @Test
    void hostileControlCommandsGetErrAndTheQueueServesTheNextOne() throws Exception {
        plug(false);
        start(VERSION_1 | bit(VirtioNetFeatures.CTRL_VQ) | bit(VirtioNetFeatures.CTRL_RX) | bit(VirtioNetFeatures.CTRL_MAC_ADDR));
        assertThat(control(1, 0, macTables(0, 0, 0, 0))).as("empty MAC tables").isEqualTo(VirtioNet.ACK_OK);
        assertThat(control(1, 0, macTables(2, 12, 1, 6))).as("two unicast, one multicast").isEqualTo(VirtioNet.ACK_OK);
        int refusedBefore = 0;
        record Case(String what, int cls, int cmd, byte[] data) {}
        List<Case> bad = List.of(
                new Case("a unicast count of 2^32-1", 1, 0, macTables(0xffff_ffffL, 0, 0, 0)),
                new Case("a unicast count past the buffer", 1, 0, macTables(2, 6, 0, 0)),
                new Case("a multicast count past the buffer", 1, 0, macTables(0, 0, 0x2aaa_aaabL, 6)),
                new Case("no multicast count", 1, 0, new byte[] {0, 0, 0, 0}),
                new Case("a byte after the tables", 1, 0, Arrays.copyOf(macTables(1, 6, 0, 0), 8 + 6 + 1)),
                new Case("MAC_ADDR_SET with seven bytes", 1, 1, new byte[7]),
                new Case("unknown MAC command", 1, 2, new byte[6]),
                new Case("RX with two data bytes", 0, 1, new byte[] {1, 1}),
                new Case("VQ_PAIRS_SET without MQ", 4, 0, new byte[] {1, 0}),
                new Case("ANNOUNCE, never offered", 3, 0, new byte[0]),
                new Case("class 255 command 255", 255, 255, new byte[64]));
        for (Case k : bad) assertThat(control(k.cls(), k.cmd(), k.data())).as(k.what()).isEqualTo(VirtioNet.ACK_ERR);
        // Chains too short for a command, or with nowhere to put the ack.
        long ack = ctrl.allocate(1);
        machine.memory().writeByte(ack, (byte) 0x7f);
        assertThat(controlRaw(List.of(Buf.in(ctrl.allocate(new byte[] {0}), 1), Buf.out(ack, 1)), ack)).as("one byte of command").containsExactly(1, VirtioNet.ACK_ERR);
        machine.memory().writeByte(ack, (byte) 0x7f);
        assertThat(controlRaw(List.of(Buf.out(ack, 1)), ack)).as("no command at all").containsExactly(1, VirtioNet.ACK_ERR);
        assertThat(controlRaw(List.of(Buf.in(ctrl.allocate(new byte[] {0, 0, 1}), 3)), -1)).as("no room for the ack").containsExactly(0, 0x7f);
        assertThat(controlRaw(List.of(Buf.in(ctrl.allocate(new byte[] {0, 0, 1}), 3), Buf.out(ctrl.allocate(8), 0)), -1))
                .as("a zero-length ack buffer").containsExactly(0, 0x7f);
        assertThat(control(0, 0, new byte[] {1})).as("PROMISC after all that").isEqualTo(VirtioNet.ACK_OK);
        assertThat(net.counters().controlRefused()).isEqualTo(refusedBefore + bad.size() + 4);
        assertThat(status() & VirtioStatus.DEVICE_NEEDS_RESET).isZero();
    }

    // ---- several queue pairs ----

    @Test
    void withTwoPairsTheSecondReceivesAndSendsOnlyAfterTheDriverAsksForBoth() throws Exception {
        LoopbackNetBackend second = new LoopbackNetBackend(false);
        backend = new LoopbackNetBackend(false);
        net = new VirtioNet("vnet", List.of(backend, second), MAC);
        transport = new VirtioPciTransport("vnet", net, machine, machine.irq(21), 21);
        machine.pci().add(SLOT, transport);
        bar0 = transport.barAddress(0);
        cfgWrite(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
        assertThat(net.deviceFeatures() & bit(VirtioNetFeatures.MQ)).as("MQ offered").isNotZero();
        assertThat(net.queueCount()).isEqualTo(5);
        assertThat(net.configRead(8, 2)).as("max_virtqueue_pairs").isEqualTo(2);

        // rx0, tx0, rx1, tx1, ctrl
        VirtqueueDriver rx0 = new VirtqueueDriver(machine.memory(), 0x1000, 16, 0x10000, 0x40000);
        VirtqueueDriver tx0 = new VirtqueueDriver(machine.memory(), 0x2000, 16, 0x40000, 0x80000);
        VirtqueueDriver rx1 = new VirtqueueDriver(machine.memory(), 0x3000, 16, 0x80000, 0xc0000);
        VirtqueueDriver tx1 = new VirtqueueDriver(machine.memory(), 0x4000, 16, 0xc0000, 0x100000);
        ctrl = new VirtqueueDriver(machine.memory(), 0x5000, 16, 0x100000, 0x140000);
        VirtqueueDriver[] queues = {rx0, tx0, rx1, tx1, ctrl};
        long features = VERSION_1 | bit(VirtioNetFeatures.CTRL_VQ) | bit(VirtioNetFeatures.MQ);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 0);
        write(COMMON + DRIVER_FEATURE, 4, features & 0xffffffffL);
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 1);
        write(COMMON + DRIVER_FEATURE, 4, features >>> 32);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        for (int q = 0; q < queues.length; q++) {
            write(COMMON + QUEUE_SELECT, 2, q);
            write(COMMON + QUEUE_SIZE, 2, queues[q].size());
            write(COMMON + QUEUE_DESC, 8, queues[q].layout().descriptorTable());
            write(COMMON + QUEUE_DRIVER, 8, queues[q].layout().availRing());
            write(COMMON + QUEUE_DEVICE, 8, queues[q].layout().usedRing());
            write(COMMON + QUEUE_ENABLE, 2, 1);
        }
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK | VirtioStatus.DRIVER_OK);
        assertThat(second.queueEnabled()).as("pair 1 disabled until VQ_PAIRS_SET").isFalse();

        long buf1 = rx1.allocate(RXBUF);
        rx1.addChain(List.of(Buf.out(buf1, RXBUF)));
        kick(2);
        byte[] f = frame(80, 3);
        assertThat(second.deliver(f)).isTrue();
        Thread.sleep(300);
        assertThat(rx1.usedIndex()).as("nothing received on an unused pair").isZero();
        assertThat(second.waiting()).as("the frame waits in pair 1's backend").isEqualTo(1);

        // VQ_PAIRS_SET goes to queue 4 (2N with MQ): 3 pairs is more than the device has.
        assertThat(controlOn(4, 4, 0, new byte[] {3, 0})).as("3 pairs refused").isEqualTo(VirtioNet.ACK_ERR);
        assertThat(controlOn(4, 4, 0, new byte[] {2, 0})).as("2 pairs").isEqualTo(VirtioNet.ACK_OK);
        assertThat(second.queueEnabled()).isTrue();
        await(() -> rx1.usedIndex() == 1, "the frame on pair 1");
        assertThat(rx1.takeUsed()).containsExactly(new Used(0, HDR + 80));
        assertThat(mem(buf1 + HDR, 80)).isEqualTo(f);

        byte[] out = frame(64, 4);
        tx1.addChain(List.of(Buf.in(tx1.allocate(concat(new byte[HDR], out)), HDR + 64)));
        kick(3);
        await(() -> second.sent().size() == 1, "the frame sent on pair 1");
        assertThat(second.sent().get(0)).isEqualTo(out);
        assertThat(backend.sent()).as("nothing on pair 0's backend").isEmpty();

        assertThat(controlOn(4, 4, 0, new byte[] {1, 0})).as("back to one pair").isEqualTo(VirtioNet.ACK_OK);
        assertThat(second.queueEnabled()).isFalse();
        transport.close();
        transport = null;
        assertThat(second.closed()).as("every pair's backend closed with the device").isTrue();
    }

    int controlOn(int queue, int cls, int cmd, byte[] data) throws Exception {
        long command = ctrl.allocate(new byte[] {(byte) cls, (byte) cmd});
        long ack = ctrl.allocate(1);
        machine.memory().writeByte(ack, (byte) 0x7f);
        int before = ctrl.usedIndex();
        ctrl.addChain(List.of(Buf.in(command, 2), Buf.in(ctrl.allocate(data), data.length), Buf.out(ack, 1)));
        kick(queue);
        await(() -> ctrl.usedIndex() == ((before + 1) & 0xffff), "the control command");
        ctrl.takeUsed();
        return machine.memory().readByte(ack);
    }

    @Test
    void aResetWakesTheReceiveThreadInsteadOfWaitingOutItsPoll() throws Exception {
        plug(false);
        start(VERSION_1);
        await(() -> backend.waits() > 0, "the receive thread waiting for a frame");
        long started = System.nanoTime();
        write(COMMON + DEVICE_STATUS, 1, 0); // the driver resets the device: its threads stop before the write returns
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertThat(backend.wokenWaits()).as("the wait the reset ended").isEqualTo(1);
        assertThat(millis).as("reset took %d ms; the receive poll is 200 ms", millis).isLessThan(200);
    }

    // ---- a hostile driver ----

    @Test
    void whenNoInterruptCanBeDeliveredTheDeviceStillReceivesSendsAndAnswersCommands() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        plug(false, MachineView.withMsi(machine, (address, data) -> {
            attempts.incrementAndGet();
            throw new IllegalStateException("KVM_SIGNAL_MSI: operation not permitted (errno 1)");
        }));
        start(VERSION_1 | bit(VirtioNetFeatures.CTRL_VQ) | bit(VirtioNetFeatures.CTRL_RX));
        for (int i = 0; i < 10; i++) {
            long buf = postRx(RXBUF);
            kick(RX);
            byte[] in = frame(60 + i, 50 + i);
            backend.deliver(in);
            int n = i + 1;
            await(() -> rx.usedIndex() == n, "frame " + n + " received");
            assertThat(mem(buf + HDR, in.length)).isEqualTo(in);
            tx.addChain(txBuffers(concat(new byte[HDR], frame(70, i)), 12));
            kick(TX);
            await(() -> tx.usedIndex() == n, "frame " + n + " sent");
            assertThat(control(0, 1, new byte[] {1})).isEqualTo(VirtioNet.ACK_OK);
        }
        assertThat(attempts.get()).as("interrupts tried").isGreaterThanOrEqualTo(20);
        assertThat(backend.sent()).hasSize(10);
        assertThat(status() & VirtioStatus.DEVICE_NEEDS_RESET).isZero();
    }

    @Test
    void whenTheBackendFailsTheLinkGoesDownFramesAreDroppedAndWhenItWorksAgainTheLinkComesBack() throws Exception {
        BreakingNetBackend breaking = new BreakingNetBackend(new LoopbackNetBackend(false));
        backend = breaking.inner;
        plug(breaking, machine, new GuestErrorLog(new RecordingLogger(), "vnet"));
        bar0 = transport.barAddress(0);
        start(VERSION_1 | bit(VirtioNetFeatures.STATUS));
        long linkStatus = DEVICE_CONFIG + 6;
        assertThat(read(linkStatus, 2)).as("link up").isEqualTo(1);
        long generation = read(COMMON + CONFIG_GENERATION, 1);
        long first = postRx(RXBUF);
        kick(RX);

        breaking.broken(true);
        await(() -> read(linkStatus, 2) == 0, "the link going down");
        await(() -> msiCount(CONFIG_MSI) == 1, "the configuration interrupt");
        assertThat(read(COMMON + CONFIG_GENERATION, 1)).as("config_generation").isNotEqualTo(generation);
        tx.addChain(txBuffers(concat(new byte[HDR], frame(60, 1)), 12));
        kick(TX);
        await(() -> tx.usedIndex() == 1, "the frame sent into the broken backend returned");
        // Retries back off to one a second: no spinning on a backend that keeps failing.
        Thread.sleep(300);
        int waits = breaking.waits();
        Thread.sleep(1_000);
        assertThat(breaking.waits() - waits).as("tries in a second of failure").isLessThanOrEqualTo(3);
        assertThat(status() & VirtioStatus.DEVICE_NEEDS_RESET).as("the host's failure is not the guest's").isZero();

        breaking.broken(false);
        byte[] in = frame(80, 2);
        backend.deliver(in);
        await(() -> rx.usedIndex() == 1, "a frame received once the backend works");
        assertThat(mem(first + HDR, 80)).isEqualTo(in);
        await(() -> read(linkStatus, 2) == 1, "the link up again");
        await(() -> msiCount(CONFIG_MSI) == 2, "the second configuration interrupt");
        tx.addChain(txBuffers(concat(new byte[HDR], frame(60, 3)), 12));
        kick(TX);
        await(() -> backend.sent().size() == 1, "a frame sent once the backend works");
        // the device counts a frame just after the backend took it: wait for the count, not only the frame
        await(() -> net.counters().sent() == 1, "the sent frame counted");
        VirtioNetCounters c = net.counters();
        assertThat(c.transmitDropped()).isEqualTo(1);
        assertThat(c.received()).isEqualTo(1);
        assertThat(c.sent()).isEqualTo(1);
        assertThat(c.backendErrors()).isBetween(2L, 20L);
    }

    @Test
    void resetsWhileFramesFlowBothWaysStopEveryDeviceWriteAndTheDeviceWorksAfter() throws Exception {
        RecordingGuestMemory memory = new RecordingGuestMemory(machine.memory());
        plug(false, MachineView.withMemory(machine, memory));
        AtomicBoolean flowing = new AtomicBoolean(true);
        Thread host = Thread.ofPlatform().name("test-host").start(() -> {
            for (int i = 0; flowing.get(); i++) if (!backend.deliver(frame(60 + i % 1000, i))) Thread.onSpinWait();
        });
        try {
            java.util.Random random = new java.util.Random(14);
            for (int cycle = 0; cycle < 30; cycle++) {
                rx = new VirtqueueDriver(machine.memory(), 0x1000, 128, 0x10000, 0x100000);
                tx = new VirtqueueDriver(machine.memory(), 0x3000, 64, 0x100000, 0x280000);
                ctrl = new VirtqueueDriver(machine.memory(), 0x5000, 16, 0x280000, 0x300000);
                start(VERSION_1 | bit(VirtioNetFeatures.MRG_RXBUF));
                for (int i = 0; i < 32; i++) postRx(RXBUF);
                for (int i = 0; i < 32; i++) tx.addChain(txBuffers(concat(new byte[HDR], frame(100, i)), 12));
                kick(RX);
                kick(TX);
                Thread.sleep(random.nextInt(3));
                write(COMMON + DEVICE_STATUS, 1, 0); // reset in the middle of it
                int writes = memory.writes().size();
                Thread.sleep(10);
                assertThat(memory.writes()).as("device writes after the reset of cycle %d", cycle).hasSize(writes);
            }
        } finally {
            flowing.set(false);
            host.join();
        }
        rx = new VirtqueueDriver(machine.memory(), 0x1000, 128, 0x10000, 0x100000);
        tx = new VirtqueueDriver(machine.memory(), 0x3000, 64, 0x100000, 0x280000);
        start(VERSION_1);
        postRx(RXBUF);
        kick(RX);
        await(() -> rx.usedIndex() == 1, "a frame after the resets");
        int sentBefore = backend.sent().size();
        tx.addChain(txBuffers(concat(new byte[HDR], frame(64, 99)), 12));
        kick(TX);
        await(() -> backend.sent().size() == sentBefore + 1, "a frame sent after the resets");
    }

    @Test
    void aGuestMakingTheSameMistakesOverAndOverWritesABoundedLog() throws Exception {
        RecordingLogger logger = new RecordingLogger();
        GuestErrorLog errors = new GuestErrorLog(logger, "vnet");
        BreakingNetBackend noOffloads = new BreakingNetBackend(new LoopbackNetBackend(true));
        noOffloads.offloadsFail(true);
        backend = noOffloads.inner;
        plug(noOffloads, machine, errors);
        bar0 = transport.barAddress(0);
        // Resets and activations: each warned that offloads could not be set.
        for (int i = 0; i < 200; i++) start(VERSION_1 | bit(VirtioNetFeatures.GUEST_CSUM));
        // Bad frames, 64 at a time.
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 64; i++) tx.addChain(List.of(Buf.in(tx.allocate(5), 5)));
            kick(TX);
            int n = 64 * (round + 1);
            await(() -> tx.usedIndex() == (n & 0xffff), "round " + n);
        }
        assertThat(net.counters().transmitDropped()).isEqualTo(50 * 64);
        assertThat(errors.count()).isEqualTo(200 + 50 * 64);
        long loud = logger.lines().stream().filter(l -> l.level().toInt() >= org.slf4j.event.Level.WARN.toInt()).count();
        assertThat(loud).as("warn and error lines for %d reports", errors.count()).isBetween(1L, 11L);
    }

    @Test
    void aTransmitDescriptorOutsideGuestRamMakesTheDeviceNeedAResetAndAResetRecoversIt() throws Exception {
        plug(false);
        start(VERSION_1);
        tx.writeDescriptor(0, 0x3f_0000_0000L, 64, 0, 0);
        tx.publish(0);
        kick(TX);
        await(() -> (status() & VirtioStatus.DEVICE_NEEDS_RESET) != 0, "DEVICE_NEEDS_RESET");
        await(() -> msiCount(CONFIG_MSI) == 1, "the configuration-change interrupt");
        assertThat(backend.sent()).isEmpty();
        assertThat(tx.usedIndex()).isZero();
        // The driver resets the device and sets it up again: it works.
        tx = new VirtqueueDriver(machine.memory(), 0x3000, 64, 0x100000, 0x280000);
        start(VERSION_1);
        byte[] f = frame(60, 40);
        tx.addChain(txBuffers(concat(new byte[HDR], f), 12));
        kick(TX);
        await(() -> tx.usedIndex() == 1, "the transmit after the reset");
        assertThat(backend.sent()).hasSize(1);
        assertThat(backend.sent().get(0)).isEqualTo(f);
    }

    @Test
    void aReceiveDescriptorOutsideGuestRamMakesTheDeviceNeedAResetAndTheFrameStaysInTheBackend() throws Exception {
        plug(false);
        start(VERSION_1);
        rx.writeDescriptor(0, 0x3f_0000_0000L, RXBUF, VirtqueueDriver.DESC_F_WRITE, 0);
        rx.publish(0);
        backend.deliver(frame(60, 41));
        await(() -> (status() & VirtioStatus.DEVICE_NEEDS_RESET) != 0, "DEVICE_NEEDS_RESET");
        assertThat(rx.usedIndex()).isZero();
        assertThat(backend.waiting()).isEqualTo(1);
    }

    @Test
    void aReceiveBufferWithNoRoomForTheHeaderIsReturnedUnusedAndReceiveGoesOn() throws Exception {
        plug(true);
        start(VERSION_1);
        long readable = rx.allocate(64);
        int noWritable = rx.addChain(List.of(Buf.in(readable, 64))); // device-readable only: nowhere to put a frame
        long small = rx.allocate(HDR - 1);
        int tooSmall = rx.addChain(List.of(Buf.out(small, HDR - 1)));
        int zeroLength = rx.addChain(List.of(Buf.out(rx.allocate(16), 0), Buf.out(rx.allocate(16), 0)));
        byte[] f = frame(60, 42);
        backend.deliver(concat(new byte[HDR], f));
        await(() -> rx.usedIndex() == 3, "the three buffers back");
        assertThat(rx.takeUsed()).containsExactly(new Used(noWritable, 0), new Used(tooSmall, 0), new Used(zeroLength, 0));
        assertThat(status() & VirtioStatus.DEVICE_NEEDS_RESET).isZero();
        assertThat(backend.waiting()).as("the frame is not lost").isEqualTo(1);
        await(() -> msiCount(queueMsi(RX)) >= 1, "the driver told of the returned buffers");
        long good = postRx(RXBUF);
        kick(RX);
        await(() -> rx.usedIndex() == 4, "the frame in the next good buffer");
        assertThat(mem(good + HDR, 60)).isEqualTo(f);
        assertThat(net.counters()).isEqualTo(new VirtioNetCounters(1, 0, 0, 0, 3, 0, 0));
    }
}
