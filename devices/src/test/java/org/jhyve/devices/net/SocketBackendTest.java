package org.jhyve.devices.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Two real socket backends on this host exchanging Ethernet frames as datagrams, over UDP and Unix sockets. */
class SocketBackendTest {
    final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    <T extends AutoCloseable> T track(T c) {
        open.add(c);
        return c;
    }

    static int freePort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte) (i * 13 + seed);
        return b;
    }

    /** Heap segments holding consecutive pieces of {@code bytes}, cut at {@code cuts}. */
    static List<MemorySegment> pieces(byte[] bytes, int... cuts) {
        List<MemorySegment> out = new ArrayList<>();
        int from = 0;
        int[] ends = Arrays.copyOf(cuts, cuts.length + 1);
        ends[cuts.length] = bytes.length;
        for (int end : ends) {
            out.add(MemorySegment.ofArray(Arrays.copyOfRange(bytes, from, end)));
            from = end;
        }
        return out;
    }

    static List<MemorySegment> buffers(int... sizes) {
        List<MemorySegment> out = new ArrayList<>();
        for (int s : sizes) out.add(MemorySegment.ofArray(new byte[s]));
        return out;
    }

    /** The first {@code length} bytes of the buffers, in order. */
    static byte[] gathered(List<MemorySegment> buffers, int length) {
        byte[] out = new byte[length];
        int at = 0;
        for (MemorySegment b : buffers) {
            int n = (int) Math.min(b.byteSize(), length - at);
            MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, out, at, n);
            at += n;
        }
        return out;
    }

    /** Waits for a frame (up to 5 s) and reads it into {@code buffers}. */
    static int receive(SocketBackend backend, List<MemorySegment> buffers) throws IOException {
        assertThat(backend.awaitReadable(5000)).as("a frame arrives").isTrue();
        return backend.receive(buffers);
    }

    @Test
    void twoUdpBackendsExchangeFramesBothWaysGatheringAndScattering() throws Exception {
        int pa = freePort(), pb = freePort();
        SocketBackend a = track(SocketBackend.open("udp:127.0.0.1:" + pa, "127.0.0.1:" + pb));
        SocketBackend b = track(SocketBackend.open("udp:127.0.0.1:" + pb, "udp:127.0.0.1:" + pa));
        assertThat(a.vnetHeader()).isFalse();
        assertThat(a.offloadFeatures()).isZero();
        assertThat(a.describe()).isEqualTo("socket udp:127.0.0.1:" + pa);

        byte[] toB = pattern(1114, 1);
        a.send(pieces(toB, 14, 114));
        List<MemorySegment> in = buffers(20, 500, 2000);
        assertThat(receive(b, in)).isEqualTo(1114);
        assertThat(gathered(in, 1114)).isEqualTo(toB);
        assertThat(in.get(2).get(ValueLayout.JAVA_BYTE, 1114 - 520)).as("nothing past the frame").isZero();

        byte[] toA = pattern(60, 2);
        b.send(pieces(toA));
        List<MemorySegment> one = buffers(1514);
        assertThat(receive(a, one)).isEqualTo(60);
        assertThat(gathered(one, 60)).isEqualTo(toA);

        assertThat(a.receive(buffers(1514))).as("nothing more waiting").isZero();
        assertThat(a.dropped()).isZero();
        assertThat(b.dropped()).isZero();
    }

    @Test
    void framesArriveInOrderAndOneLongerThanTheBuffersIsCut() throws Exception {
        int pa = freePort(), pb = freePort();
        SocketBackend a = track(SocketBackend.open("udp:127.0.0.1:" + pa, "127.0.0.1:" + pb));
        SocketBackend b = track(SocketBackend.open("udp:127.0.0.1:" + pb, "127.0.0.1:" + pa));
        for (int i = 0; i < 5; i++) a.send(pieces(pattern(60 + i, i)));
        a.send(pieces(pattern(200, 9), 100));
        for (int i = 0; i < 5; i++) {
            List<MemorySegment> in = buffers(1514);
            assertThat(receive(b, in)).as("frame %d", i).isEqualTo(60 + i);
            assertThat(gathered(in, 60 + i)).isEqualTo(pattern(60 + i, i));
        }
        List<MemorySegment> small = buffers(50, 50);
        assertThat(receive(b, small)).isEqualTo(100);
        assertThat(gathered(small, 100)).isEqualTo(Arrays.copyOf(pattern(200, 9), 100));
    }

    @Test
    void awaitReadableTimesOutWhenNothingComes() throws Exception {
        int pa = freePort();
        SocketBackend a = track(SocketBackend.open("udp:127.0.0.1:" + pa, "127.0.0.1:" + freePort()));
        long t0 = System.nanoTime();
        assertThat(a.awaitReadable(60)).isFalse();
        assertThat((System.nanoTime() - t0) / 1_000_000).as("waited ms").isBetween(55L, 2000L);
        assertThat(a.awaitReadable(0)).isFalse();
        assertThat(a.receive(buffers(1514))).isZero();
    }

    @Test
    void datagramsThatAreNotEthernetSizedAreDroppedAndCounted() throws Exception {
        int pa = freePort(), peer = freePort();
        SocketBackend a = track(SocketBackend.open("udp:127.0.0.1:" + pa, "127.0.0.1:" + peer));
        InetSocketAddress to = new InetSocketAddress("127.0.0.1", pa);
        try (DatagramSocket s = new DatagramSocket(peer, InetAddress.getLoopbackAddress())) { // the peer's port: a is connected to it
            s.send(new DatagramPacket(new byte[13], 13, to)); // shorter than an Ethernet header
            s.send(new DatagramPacket(new byte[0], 0, to));
            byte[] largest = pattern(65507, 3); // the largest UDP/IPv4 datagram: still a frame (<= 65550)
            s.send(new DatagramPacket(largest, largest.length, to));
            byte[] shortest = pattern(14, 4);
            s.send(new DatagramPacket(shortest, 14, to));
            List<MemorySegment> in = buffers(70000);
            assertThat(receive(a, in)).isEqualTo(65507);
            assertThat(gathered(in, 65507)).isEqualTo(largest);
            assertThat(receive(a, in)).isEqualTo(14);
            assertThat(gathered(in, 14)).isEqualTo(shortest);
        }
        assertThat(a.dropped()).isEqualTo(2);
        assertThat(a.awaitReadable(0)).isFalse();
    }

    @Test
    void bindingAPortInUseOrABadAddressFailsWithAClearMessage() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> track(SocketBackend.open("udp:127.0.0.1:" + port, "127.0.0.1:9")))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("cannot bind udp:127.0.0.1:" + port + ": ")
                    .hasMessageContaining("in use");
        }
        assertThatThrownBy(() -> track(SocketBackend.open("udp:127.0.0.1", "127.0.0.1:9")))
                .isInstanceOf(IOException.class).hasMessage("socket=udp:127.0.0.1: expected HOST:PORT");
        assertThatThrownBy(() -> track(SocketBackend.open("udp:127.0.0.1:0", "127.0.0.1:65536")))
                .isInstanceOf(IOException.class).hasMessage("peer=127.0.0.1:65536: expected HOST:PORT");
        assertThatThrownBy(() -> track(SocketBackend.open("udp:127.0.0.1:0", "udp:localhost:x")))
                .isInstanceOf(IOException.class).hasMessage("peer=udp:localhost:x: expected HOST:PORT");
    }

    @Test
    void aClosedBackendIsNeverReadableAndClosesTwiceQuietly() throws Exception {
        SocketBackend a = SocketBackend.open("udp:127.0.0.1:" + freePort(), "127.0.0.1:9");
        a.close();
        long t0 = System.nanoTime();
        assertThat(a.awaitReadable(1000)).isFalse();
        assertThat((System.nanoTime() - t0) / 1_000_000).as("returned at once").isLessThan(500);
        a.close();
    }

    @Test
    void twoUnixDatagramBackendsExchangeFramesAndDropOversizedOnes(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Epoll.isAvailable(), () -> "Netty's native epoll transport does not load here: " + Epoll.unavailabilityCause());
        Path pa = dir.resolve("a.sock"), pb = dir.resolve("b.sock");
        SocketBackend a = track(SocketBackend.open("unix:" + pa, "unix:" + pb));
        SocketBackend b = track(SocketBackend.open("unix:" + pb, pa.toString()));
        assertThat(Files.exists(pa)).isTrue();
        assertThat(a.describe()).isEqualTo("socket unix:" + pa);

        byte[] toB = pattern(1514, 5);
        a.send(pieces(toB, 6, 12, 14));
        List<MemorySegment> in = buffers(100, 2000);
        assertThat(receive(b, in)).isEqualTo(1514);
        assertThat(gathered(in, 1514)).isEqualTo(toB);

        byte[] toA = pattern(60, 6);
        b.send(pieces(toA, 30));
        List<MemorySegment> one = buffers(1514);
        assertThat(receive(a, one)).isEqualTo(60);
        assertThat(gathered(one, 60)).isEqualTo(toA);

        // Larger than any frame: dropped, not cut to size and passed on; the next frame still arrives.
        a.send(pieces(pattern(70000, 7)));
        byte[] after = pattern(80, 8);
        a.send(pieces(after));
        List<MemorySegment> big = buffers(80000);
        assertThat(receive(b, big)).isEqualTo(80);
        assertThat(gathered(big, 80)).isEqualTo(after);
        assertThat(b.dropped()).isEqualTo(1);
    }

    @Test
    void aUnixSocketPathLeftBehindIsReplaced(@TempDir Path dir) throws Exception {
        assumeEpoll();
        Path pa = dir.resolve("a.sock");
        try (ServerSocketChannel killed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            killed.bind(UnixDomainSocketAddress.of(pa)); // closing leaves the file: a stale socket, as a killed jhyve leaves
        }
        SocketBackend a = track(SocketBackend.open("unix:" + pa, "unix:" + dir.resolve("b.sock")));
        SocketBackend b = track(SocketBackend.open("unix:" + dir.resolve("b.sock"), "unix:" + pa));
        b.send(pieces(pattern(64, 9)));
        List<MemorySegment> in = buffers(1514);
        assertThat(receive(a, in)).isEqualTo(64);
        assertThat(gathered(in, 64)).isEqualTo(pattern(64, 9));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pa))).as("the socket's mode").isEqualTo("rw-------");
        a.close();
        assertThat(pa).as("deleted at close").doesNotExist();
    }

    @Test
    void aFileAtTheUnixPathIsLeftAloneAndRefusedAsIsASocketInUse(@TempDir Path dir) throws Exception {
        assumeEpoll();
        Path file = Files.writeString(dir.resolve("a.sock"), "not a socket");
        assertThatThrownBy(() -> track(SocketBackend.open("unix:" + file, "unix:" + dir.resolve("b.sock"))))
                .isInstanceOf(IOException.class)
                .hasMessage("cannot bind unix:" + file + ": " + file + " exists and is not a socket (a regular file); not replacing it");
        assertThat(Files.readString(file)).isEqualTo("not a socket");

        Path busy = dir.resolve("busy.sock");
        track(SocketBackend.open("unix:" + busy, "unix:" + dir.resolve("c.sock")));
        assertThatThrownBy(() -> track(SocketBackend.open("unix:" + busy, "unix:" + dir.resolve("c.sock"))))
                .isInstanceOf(IOException.class)
                .hasMessage("cannot bind unix:" + busy + ": " + busy + " is a socket a running process serves; not replacing it");
    }

    @Test
    void aUdpFrameFromAThirdSenderNeverReachesTheGuest() throws Exception {
        int pa = freePort(), pb = freePort();
        SocketBackend a = track(SocketBackend.open("udp:127.0.0.1:" + pa, "127.0.0.1:" + pb));
        try (DatagramSocket third = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            byte[] spoof = pattern(60, 66);
            third.send(new DatagramPacket(spoof, spoof.length, new InetSocketAddress("127.0.0.1", pa)));
        }
        SocketBackend b = track(SocketBackend.open("udp:127.0.0.1:" + pb, "127.0.0.1:" + pa));
        b.send(pieces(pattern(70, 1)));
        List<MemorySegment> in = buffers(1514);
        assertThat(receive(a, in)).as("the peer's frame, not the third sender's").isEqualTo(70);
        assertThat(gathered(in, 70)).isEqualTo(pattern(70, 1));
        assertThat(a.awaitReadable(200)).as("nothing else arrives").isFalse();
    }

    @Test
    void aUnixFrameFromAThirdSenderNeverReachesTheGuestAndThePeerIsKnownByItsFileNotItsSpelling(@TempDir Path dir) throws Exception {
        assumeEpoll();
        Path pa = dir.resolve("a.sock"), pb = dir.resolve("b.sock"), pc = dir.resolve("c.sock");
        SocketBackend a = track(SocketBackend.open("unix:" + pa, "unix:" + dir.resolve("sub/../b.sock")));
        Files.createDirectory(dir.resolve("sub"));
        SocketBackend third = track(SocketBackend.open("unix:" + pc, "unix:" + pa));
        third.send(pieces(pattern(60, 66)));
        SocketBackend b = track(SocketBackend.open("unix:" + pb, "unix:" + pa));
        b.send(pieces(pattern(70, 1)));
        third.send(pieces(pattern(61, 67)));
        b.send(pieces(pattern(71, 2)));
        List<MemorySegment> in = buffers(1514);
        assertThat(receive(a, in)).as("the peer's frame, not the third sender's").isEqualTo(70);
        assertThat(gathered(in, 70)).isEqualTo(pattern(70, 1));
        assertThat(receive(a, in)).isEqualTo(71);
        assertThat(a.awaitReadable(200)).as("nothing else arrives").isFalse();
        assertThat(a.foreign()).as("the third sender's frames, dropped").isEqualTo(2);
    }

    @Test
    void aUdpPeerThatComesUpLaterGetsTheFramesSentFromThenOn() throws Exception {
        int pa = freePort(), pb = freePort();
        SocketBackend a = track(SocketBackend.open("udp:127.0.0.1:" + pa, "127.0.0.1:" + pb));
        for (int i = 0; i < 3; i++) a.send(pieces(pattern(60, i))); // port unreachable: lost, as on a cable to nowhere
        Thread.sleep(100);
        SocketBackend b = track(SocketBackend.open("udp:127.0.0.1:" + pb, "127.0.0.1:" + pa));
        a.send(pieces(pattern(80, 5)));
        List<MemorySegment> in = buffers(1514);
        assertThat(receive(b, in)).isEqualTo(80);
        b.send(pieces(pattern(81, 6)));
        assertThat(receive(a, in)).isEqualTo(81);
    }

    @Test
    @Timeout(60)
    void sendingToAUnixPeerThatStopsReadingDropsFramesAndHoldsABoundedBacklog(@TempDir Path dir) throws Exception {
        assumeEpoll();
        Path pa = dir.resolve("a.sock"), pb = dir.resolve("b.sock");
        SocketBackend b = track(SocketBackend.open("unix:" + pb, "unix:" + pa)); // never receives: its queue and the kernel's fill
        SocketBackend a = track(SocketBackend.open("unix:" + pa, "unix:" + pb));
        long most = 0;
        int failed = 0;
        for (int i = 0; i < 3000; i++) {
            try {
                a.send(pieces(pattern(1500, i)));
            } catch (IOException e) {
                failed++;
            }
            most = Math.max(most, a.pendingSendBytes());
        }
        assertThat(most).as("bytes of frames waiting in jhyve").isLessThanOrEqualTo(SocketBackend.MAX_PENDING_SEND + 2 * 1500 + 1024);
        assertThat(a.sendDropped()).as("frames dropped").isPositive().isEqualTo(failed);

        // Once the peer reads again, frames flow.
        List<MemorySegment> in = buffers(1514);
        int drained = 0;
        while (b.awaitReadable(300)) {
            b.receive(in);
            drained++;
        }
        assertThat(drained).isPositive();
        a.send(pieces(pattern(90, 9)));
        assertThat(receive(b, in)).isEqualTo(90);
    }

    @Test
    void udpBeyondLoopbackIsWarnedAboutInOneLine() {
        assertThat(SocketBackend.exposureWarning(new InetSocketAddress("127.0.0.1", 5000))).isEmpty();
        assertThat(SocketBackend.exposureWarning(new InetSocketAddress("0.0.0.0", 5000)))
                .hasValueSatisfying(w -> assertThat(w).startsWith("socket=udp:0.0.0.0:5000 is bound beyond loopback: ").doesNotContain("\n"));
    }

    private static void assumeEpoll() {
        Assumptions.assumeTrue(Epoll.isAvailable(), () -> "Netty's native epoll transport does not load here: " + Epoll.unavailabilityCause());
    }
}
