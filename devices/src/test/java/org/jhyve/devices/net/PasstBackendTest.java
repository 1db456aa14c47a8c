package org.jhyve.devices.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jhyve.posix.ChildProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * passt as the backend, for real: frames both ways in the stream protocol, a forwarded host port, passt dying
 * under the NIC, and passt not outliving the backend. Skipped where passt is not installed (Debian package passt).
 */
@Timeout(60)
class PasstBackendTest {
    static final byte[] GUEST_MAC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x42};
    private final List<PasstBackend> opened = new ArrayList<>();
    private final Arena arena = Arena.ofShared();

    @BeforeAll
    static void needsPasst() {
        assumeTrue(PasstBackend.locate(System.getenv("PATH")).isPresent(), "passt is not installed (Debian package passt)");
    }

    @AfterEach
    void closeAll() {
        opened.forEach(PasstBackend::close);
    }

    private PasstBackend start(List<PasstBackend.Forward> forwards) throws IOException {
        PasstBackend b = PasstBackend.start("test-nic", forwards);
        opened.add(b);
        return b;
    }

    /** An ARP request from the guest's MAC: who has {@code target}? (sender 0.0.0.0: the guest has no address yet). */
    static byte[] arpRequest(byte[] target) {
        ByteBuffer f = ByteBuffer.allocate(42);
        f.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(GUEST_MAC).putShort((short) 0x0806);
        f.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        f.put(GUEST_MAC).put(new byte[] {10, 0, 2, 15}).put(new byte[6]).put(target);
        return f.array();
    }

    private List<MemorySegment> segments(byte[] frame) {
        MemorySegment m = arena.allocate(frame.length);
        MemorySegment.copy(frame, 0, m, ValueLayout.JAVA_BYTE, 0, frame.length);
        return List.of(m.asSlice(0, 14), m.asSlice(14)); // gathered from two buffers, as a driver may post them
    }

    /** The next frame passt sends within 10 s that {@code wanted} accepts (passt also sends router advertisements). */
    private byte[] receiveMatching(PasstBackend b, java.util.function.Predicate<byte[]> wanted) throws IOException {
        MemorySegment buf = arena.allocate(65550);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!b.awaitReadable(200)) continue;
            int n = b.receive(List.of(buf));
            byte[] frame = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            if (wanted.test(frame)) return frame;
        }
        throw new AssertionError("no such frame from passt within 10 s");
    }

    static int u16(byte[] f, int at) { return (f[at] & 0xff) << 8 | f[at + 1] & 0xff; }

    static boolean isArpReply(byte[] f) { return f.length >= 42 && u16(f, 12) == 0x0806 && u16(f, 20) == 2; }

    @Test
    void passtAnswersTheGuestsArpRequestThroughTheStreamProtocol() throws Exception {
        PasstBackend b = start(List.of());
        b.send(segments(arpRequest(new byte[] {(byte) 192, 0, 2, 1})));
        byte[] reply = receiveMatching(b, PasstBackendTest::isArpReply);
        assertThat(java.util.Arrays.copyOfRange(reply, 0, 6)).as("to the guest's MAC").isEqualTo(GUEST_MAC);
        assertThat(java.util.Arrays.copyOfRange(reply, 38, 42)).as("target IP").isEqualTo(new byte[] {10, 0, 2, 15});
        assertThat(b.failed()).as("the link works").isFalse();
        assertThat(b.malformed()).isZero();
    }

    @Test
    void aConnectionToTheForwardedHostPortReachesTheGuestAsASyn() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        PasstBackend b = start(List.of(new PasstBackend.Forward(false, "127.0.0.1", port, 9000)));
        // passt learns the guest's MAC from its first frame.
        b.send(segments(arpRequest(new byte[] {(byte) 192, 0, 2, 1})));
        receiveMatching(b, PasstBackendTest::isArpReply);
        try (Socket client = new Socket()) {
            client.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            // IPv4 (0x0800), TCP (protocol 6), destination port 9000, SYN set.
            byte[] syn = receiveMatching(b, f -> f.length >= 54 && u16(f, 12) == 0x0800 && f[23] == 6
                    && u16(f, 14 + (f[14] & 0x0f) * 4 + 2) == 9000 && (f[14 + (f[14] & 0x0f) * 4 + 13] & 0x02) != 0);
            assertThat(syn).isNotEmpty();
        }
    }

    /**
     * A passt that stops reading (here stopped outright) fills its socket: jhyve's writes must then wait in Netty's
     * buffer, not block the event loop, which also reads what passt sends. On a blocking descriptor the loop sat
     * in write(2), passt could write nothing back, and a TCP download in a guest hung half-way for good.
     */
    @Test
    void aPasstThatStopsReadingNeverBlocksTheEventLoop() throws Exception {
        PasstBackend b = start(List.of());
        b.process().signal(ChildProcess.SIGSTOP);
        try {
            byte[] frame = new byte[1514];
            System.arraycopy(new byte[] {-1, -1, -1, -1, -1, -1}, 0, frame, 0, 6);
            System.arraycopy(GUEST_MAC, 0, frame, 6, 6);
            frame[12] = 0x08; // IPv4 ethertype: passt would parse it, once it runs again
            // Well past any socket buffer (a few hundred KiB) and Netty's high water mark: the extra ones are dropped.
            for (int i = 0; i < 4000; i++) {
                try {
                    b.send(segments(frame));
                } catch (IOException dropped) {
                    // back-pressure: what a full queue should do
                }
            }
            assertThat(b.sendDropped()).as("back-pressure reached").isPositive();
            assertThat(b.channel().eventLoop().submit(() -> true).get(5, TimeUnit.SECONDS)).as("the event loop still runs tasks").isTrue();
        } finally {
            b.process().signal(ChildProcess.SIGCONT);
        }
        // and the link works again once passt reads again and has drained what waited
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                b.send(segments(arpRequest(new byte[] {(byte) 192, 0, 2, 1})));
                break;
            } catch (IOException stillFull) {
                if (System.nanoTime() > deadline) throw stillFull;
                Thread.sleep(50);
            }
        }
        receiveMatching(b, PasstBackendTest::isArpReply);
    }

    @Test
    void aForwardedPortInUseIsRefusedBeforePasstStarts() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> start(List.of(new PasstBackend.Forward(false, "127.0.0.1", port, 22))))
                    .isInstanceOf(IOException.class)
                    .hasMessage("hostfwd=tcp:127.0.0.1:" + port + "-:22: TCP port 127.0.0.1:" + port + " is in use");
        }
    }

    @Test
    void withoutPasstOnThePathTheMessageNamesThePackage() {
        assertThatThrownBy(() -> PasstBackend.start("n", "/nonexistent:/also-not", List.of()))
                .isInstanceOf(IOException.class).hasMessage(PasstBackend.INSTALL_HINT);
        assertThat(PasstBackend.INSTALL_HINT).contains("apt install passt");
    }

    @Test
    void passtKilledTakesTheLinkDownAndSaysWhy() throws Exception {
        PasstBackend b = start(List.of());
        b.process().signal(ChildProcess.SIGKILL);
        assertThat(b.process().onExit().get(10, TimeUnit.SECONDS)).isEqualTo(128 + ChildProcess.SIGKILL);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        IOException failure = null;
        while (failure == null && System.nanoTime() < deadline) {
            try {
                b.awaitReadable(100);
            } catch (IOException e) {
                failure = e;
            }
        }
        assertThat(failure).as("awaitReadable fails once passt is gone").isNotNull();
        assertThat(failure.getMessage()).matches("passt.*(exited with status 137|closed its socket|reset by peer).*");
        assertThat(b.failed()).as("failed for good: the device drops sends without a line each").isTrue();
        assertThatThrownBy(() -> b.send(segments(arpRequest(new byte[4])))).isInstanceOf(IOException.class);
        assertThat(b.sendDropped()).isEqualTo(1);
    }

    @Test
    void closingTheBackendEndsPasst() throws Exception {
        PasstBackend b = start(List.of());
        ChildProcess passt = b.process();
        assertThat(Files.exists(Path.of("/proc/" + passt.pid()))).isTrue();
        b.close();
        assertThat(passt.onExit()).as("passt has ended, and was reaped").isDone();
        assertThat(passt.onExit().get()).as("passt ended by itself when its socket closed").isZero();
    }

    @Test
    void twoBackendsRunTwoPasstsSideBySide() throws Exception {
        PasstBackend a = start(List.of()), b = start(List.of());
        assertThat(a.process().pid()).isNotEqualTo(b.process().pid());
        a.send(segments(arpRequest(new byte[] {(byte) 192, 0, 2, 1})));
        b.send(segments(arpRequest(new byte[] {(byte) 192, 0, 2, 1})));
        assertThat(receiveMatching(a, PasstBackendTest::isArpReply)).isNotEmpty();
        assertThat(receiveMatching(b, PasstBackendTest::isArpReply)).isNotEmpty();
    }
}
