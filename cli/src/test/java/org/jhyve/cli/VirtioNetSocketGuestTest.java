package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-net end to end with a driver that is not Linux, between two jhyve processes: each runs
 * guests/src/main/c/virtio-net.c, and their virtio-nets share a link through the socket backend (UDP on
 * 127.0.0.1, each sending to the other's port). The guest with MAC ...:01 resolves 10.0.0.2 by ARP and pings
 * it 100 times, checking every echoed payload; the one with ...:02 answers until told it is done. Both check
 * every frame's lengths and checksums, so a frame the devices or the backend changed would show as a lost
 * ping. In the second test the test itself plays 10.0.0.2 on a UDP socket, with frames of its own making:
 * broken ones the guest must ignore, a reply with IP options it must accept, one with a changed payload it
 * must notice, and a ping of its own the guest must answer with correct checksums.
 */
@Timeout(180)
class VirtioNetSocketGuestTest {
    static final String MAC_A = "02:00:00:00:00:01", MAC_B = "02:00:00:00:00:02";

    @TempDir
    Path dir;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    /** Two UDP ports on 127.0.0.1 that were free a moment ago (both held at once, so they differ). */
    static int[] freeUdpPorts() throws IOException {
        try (DatagramSocket a = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                DatagramSocket b = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        }
    }

    String[] args(Path program, int port, int peerPort, String mac) {
        return new String[] {"-m", "64M", "-s", "0:0,hostbridge",
                "-s", "2,virtio-net,socket=udp:127.0.0.1:" + port + ",peer=127.0.0.1:" + peerPort + ",mac=" + mac,
                "-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + program};
    }

    /** One jhyve process: its output read on another thread as it comes, its stderr in a file. */
    record Guest(String name, Process process, CompletableFuture<String> out, Path errFile) {
        static Guest start(String name, Path err, String... args) throws IOException {
            Process p = JhyveProcess.start(err, args);
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return new Guest(name, p, out, err);
        }

        /** Waits for the guest to power off (or kills it) and returns its output. */
        String finish(long seconds) throws Exception {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            return out.get(10, TimeUnit.SECONDS);
        }

        String err() throws IOException {
            return Files.exists(errFile) ? Files.readString(errFile) : "";
        }
    }

    @Test
    void twoGuestsResolveAndPingEachOtherOverUdp() throws Exception {
        int[] ports = freeUdpPorts();
        Path program = GuestImages.extract(dir, "virtio-net.elf");
        Guest a = null, b = null;
        try {
            a = Guest.start("A", dir.resolve("a.err"), args(program, ports[0], ports[1], MAC_A));
            b = Guest.start("B", dir.resolve("b.err"), args(program, ports[1], ports[0], MAC_B));
            String outA = a.finish(150), outB = b.finish(30);
            String report = "A (pinger) printed:\n" + outA + "\nA's stderr:\n" + a.err()
                    + "\nB (responder) printed:\n" + outB + "\nB's stderr:\n" + b.err();

            assertThat(outA).as(report).startsWith("virtio-net at 00:02.0\r\nmac=" + MAC_A + "\r\nip=10.0.0.1\r\n")
                    .contains("arp: 10.0.0.2 is at " + MAC_B + "\r\n", "ping: 100 sent, 100 received\r\n", "done\r\n")
                    .doesNotContain("lost", "changed", "timeout");
            assertThat(outB).as(report).startsWith("virtio-net at 00:02.0\r\nmac=" + MAC_B + "\r\nip=10.0.0.2\r\n");
            Matcher answered = Pattern.compile("answered (\\d+) pings\r\n").matcher(outB);
            assertThat(answered.find()).as(report).isTrue();
            // Every ping was answered; a retransmitted one (a late reply) may have been answered twice.
            assertThat(Integer.parseInt(answered.group(1))).as(report).isGreaterThanOrEqualTo(100);
            assertThat(a.process().exitValue()).as("A powered off; " + report).isEqualTo(1);
            assertThat(b.process().exitValue()).as("B powered off; " + report).isEqualTo(1);
        } finally {
            if (a != null) a.process().destroyForcibly();
            if (b != null) b.process().destroyForcibly();
        }
    }

    // ---- the test as 10.0.0.2 ----

    static final byte[] A_MAC = HexFormat.ofDelimiter(":").parseHex(MAC_A), B_MAC = HexFormat.ofDelimiter(":").parseHex(MAC_B);
    static final byte[] A_IP = {10, 0, 0, 1}, B_IP = {10, 0, 0, 2};
    static final int ARP = 0x0806, IPV4 = 0x0800, PING_ID = 0x4a48, DONE_ID = 0xd0e0;

    static int checksum(byte[] b, int from, int len) {
        int sum = 0;
        for (int i = 0; i < len; i += 2) sum += (b[from + i] & 0xff) << 8 | (i + 1 < len ? b[from + i + 1] & 0xff : 0);
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        return ~sum & 0xffff;
    }

    static byte[] ethernet(byte[] dst, int type, byte[] payload) {
        return ByteBuffer.allocate(14 + payload.length).put(dst).put(B_MAC).putShort((short) type).put(payload).array();
    }

    static byte[] icmp(int type, int id, int seq, byte[] data) {
        byte[] m = ByteBuffer.allocate(8 + data.length).put((byte) type).put((byte) 0).putShort((short) 0)
                .putShort((short) id).putShort((short) seq).put(data).array();
        m[2] = (byte) (checksum(m, 0, m.length) >> 8);
        m[3] = (byte) checksum(m, 0, m.length);
        return m;
    }

    /** An ICMP packet from 10.0.0.2 to 10.0.0.1, with the given header options (a multiple of 4 bytes). */
    static byte[] ipv4(byte[] options, int flagsFragment, byte[] icmp) {
        int ihl = 20 + options.length;
        byte[] p = ByteBuffer.allocate(ihl + icmp.length).put((byte) (0x40 | ihl / 4)).put((byte) 0)
                .putShort((short) (ihl + icmp.length)).putShort((short) 1).putShort((short) flagsFragment)
                .put((byte) 64).put((byte) 1).putShort((short) 0).put(B_IP).put(A_IP).put(options).put(icmp).array();
        p[10] = (byte) (checksum(p, 0, ihl) >> 8);
        p[11] = (byte) checksum(p, 0, ihl);
        return p;
    }

    static byte[] arp(int op, int hlen, byte[] tha, byte[] tpa) {
        return ByteBuffer.allocate(28).putShort((short) 1).putShort((short) IPV4).put((byte) hlen).put((byte) 4)
                .putShort((short) op).put(B_MAC).put(B_IP).put(tha).put(tpa).array();
    }

    static byte[] pattern(int seq, int length) {
        byte[] p = new byte[length];
        for (int i = 0; i < length; i++) p[i] = (byte) (seq * 13 + i * 7 + 1);
        return p;
    }

    /** Plays 10.0.0.2 for the guest at 10.0.0.1; what it sent and what it saw. */
    static final class Peer {
        final DatagramSocket socket;
        final InetSocketAddress guest;
        final List<String> problems = new ArrayList<>();
        int broken; // frames sent that the guest must count as ignored
        boolean resolved, answeredOurPing, doneSignal;

        Peer(DatagramSocket socket, int guestPort) {
            this.socket = socket;
            this.guest = new InetSocketAddress(InetAddress.getLoopbackAddress(), guestPort);
        }

        void send(byte[] frame) throws IOException {
            socket.send(new DatagramPacket(frame, frame.length, guest));
        }

        void sendBroken(byte[] frame) throws IOException {
            send(frame);
            broken++;
        }

        /** Frames the guest must drop: each caught by a different check. */
        void sendBrokenFrames() throws IOException {
            byte[] request = icmp(8, 0xbad0, 1, pattern(1, 16));
            sendBroken(ethernet(A_MAC, IPV4, new byte[6])); // shorter than an IPv4 header
            sendBroken(ethernet(A_MAC, ARP, arp(1, 8, new byte[6], A_IP))); // hardware address length 8
            sendBroken(ethernet(A_MAC, 0x86dd, new byte[40])); // IPv6: not spoken
            byte[] badHeaderSum = ipv4(new byte[0], 0, request);
            badHeaderSum[11] ^= 1;
            sendBroken(ethernet(A_MAC, IPV4, badHeaderSum));
            byte[] version6 = ipv4(new byte[0], 0, request);
            version6[0] = 0x65;
            sendBroken(ethernet(A_MAC, IPV4, version6));
            byte[] ihl4 = ipv4(new byte[0], 0, request);
            ihl4[0] = 0x44;
            sendBroken(ethernet(A_MAC, IPV4, ihl4));
            byte[] tooLong = ipv4(new byte[0], 0, request);
            tooLong[3] += 1; // total length one past the frame (checksum fixed below)
            tooLong[10] = tooLong[11] = 0;
            int sum = checksum(tooLong, 0, 20);
            tooLong[10] = (byte) (sum >> 8);
            tooLong[11] = (byte) sum;
            sendBroken(ethernet(A_MAC, IPV4, tooLong));
            byte[] badIcmpSum = icmp(8, 0xbad0, 2, pattern(2, 16));
            badIcmpSum[3] ^= 1;
            sendBroken(ethernet(A_MAC, IPV4, ipv4(new byte[0], 0, badIcmpSum)));
            // Dropped without counting: another station's frame, a fragment, a runt the backend drops.
            send(ethernet(new byte[] {2, 0, 0, 0, 0, 3}, IPV4, ipv4(new byte[0], 0, request)));
            send(ethernet(A_MAC, IPV4, ipv4(new byte[0], 0x2000, request)));
            send(new byte[10]);
        }

        void handle(byte[] f) throws IOException {
            if (f.length < 14) {
                problems.add("a " + f.length + "-byte frame");
                return;
            }
            ByteBuffer b = ByteBuffer.wrap(f);
            int type = b.getShort(12) & 0xffff;
            if (!Arrays.equals(f, 6, 12, A_MAC, 0, 6)) problems.add("a frame from " + HexFormat.of().formatHex(f, 6, 12));
            if (type == ARP && f.length >= 42 && b.getShort(20) == 1 && Arrays.equals(f, 38, 42, B_IP, 0, 4)) {
                if (!resolved) sendBrokenFrames();
                send(ethernet(A_MAC, ARP, arp(2, 6, A_MAC, A_IP)));
                if (!resolved) send(ethernet(A_MAC, IPV4, ipv4(new byte[0], 0, icmp(8, 0x1234, 7, pattern(7, 32)))));
                resolved = true;
            } else if (type == IPV4 && f.length >= 34) {
                int ihl = (f[14] & 0xf) * 4, total = b.getShort(16) & 0xffff;
                if (f[14] != 0x45 || total != f.length - 14 || checksum(f, 14, 20) != 0 || f[23] != 1
                        || !Arrays.equals(f, 26, 30, A_IP, 0, 4) || !Arrays.equals(f, 30, 34, B_IP, 0, 4)
                        || !Arrays.equals(f, 0, 6, B_MAC, 0, 6) || checksum(f, 14 + ihl, total - ihl) != 0) {
                    problems.add("a bad IPv4 frame " + HexFormat.of().formatHex(f));
                    return;
                }
                int icmpType = f[34] & 0xff, id = b.getShort(38) & 0xffff, seq = b.getShort(40) & 0xffff;
                byte[] data = Arrays.copyOfRange(f, 42, f.length);
                if (icmpType == 0 && id == 0x1234 && seq == 7 && Arrays.equals(data, pattern(7, 32))) {
                    answeredOurPing = true;
                } else if (icmpType == 8 && id == DONE_ID) {
                    send(ethernet(A_MAC, IPV4, ipv4(new byte[0], 0, icmp(0, id, seq, data))));
                    doneSignal = true;
                } else if (icmpType == 8 && id == PING_ID) {
                    byte[] corrupt = icmp(0, id, seq, data);
                    corrupt[8] ^= 1;
                    sendBroken(ethernet(A_MAC, IPV4, ipv4(new byte[0], 0, corrupt)));
                    send(ethernet(A_MAC, IPV4, ipv4(new byte[0], 0, icmp(0, id, seq + 1000, data)))); // stray sequence
                    byte[] reply = data.clone();
                    if (seq == 50) reply[5] ^= 0x40; // checksum correct, payload not what was sent
                    byte[] options = seq == 10 ? new byte[] {1, 1, 1, 0} : new byte[0]; // NOP, NOP, NOP, end
                    send(ethernet(A_MAC, IPV4, ipv4(options, 0, icmp(0, id, seq, reply))));
                } else {
                    problems.add("unexpected ICMP type " + icmpType + " id " + Integer.toHexString(id) + " seq " + seq);
                }
            } else {
                problems.add("an unexpected frame " + HexFormat.of().formatHex(f));
            }
        }
    }

    @Test
    void aGuestIgnoresBrokenFramesAndNoticesAChangedReply() throws Exception {
        int[] ports = freeUdpPorts();
        Path program = GuestImages.extract(dir, "virtio-net.elf");
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), ports[1]))) {
            socket.setSoTimeout(100);
            Peer peer = new Peer(socket, ports[0]);
            Guest a = Guest.start("A", dir.resolve("a.err"), args(program, ports[0], ports[1], MAC_A));
            try {
                byte[] buffer = new byte[2048];
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
                while (a.process().isAlive() && System.nanoTime() < end) {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    try {
                        socket.receive(packet);
                    } catch (SocketTimeoutException e) {
                        continue;
                    }
                    peer.handle(Arrays.copyOf(packet.getData(), packet.getLength()));
                }
                String out = a.finish(10);
                String report = "the guest printed:\n" + out + "\nits stderr:\n" + a.err();
                assertThat(out).as(report).contains("arp: 10.0.0.2 is at " + MAC_B + "\r\n",
                        "ping: seq 50 came back changed\r\n", "ping: 100 sent, 99 received\r\n", "done\r\n",
                        " ignored=" + peer.broken + "\r\n");
                assertThat(out).as(report).doesNotContain("lost", "timeout");
                assertThat(peer.problems).as(report).isEmpty();
                assertThat(peer.answeredOurPing).as("the guest answered the test's ping; " + report).isTrue();
                assertThat(peer.doneSignal).as(report).isTrue();
                assertThat(a.process().exitValue()).as("powered off; " + report).isEqualTo(1);
            } finally {
                a.process().destroyForcibly();
            }
        }
    }
}
