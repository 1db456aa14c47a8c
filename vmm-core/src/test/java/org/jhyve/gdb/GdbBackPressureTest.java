package org.jhyve.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A peer that floods the stub with commands and never reads a reply, over a real loopback TCP connection
 * with small socket buffers: what jhyve holds of it stays bounded, the target's threads never wait for the
 * peer, and once the peer reads, every reply arrives, in order.
 */
@Timeout(60)
class GdbBackPressureTest {
    private static final int PACKETS = 100_000;

    private final FakeTarget target = new FakeTarget();
    private ServerSocket listener;
    private Socket stubSide;
    private Socket peer;
    private GdbConnection connection;
    private final CompletableFuture<GdbConnection.End> ended = new CompletableFuture<>();

    @BeforeEach
    void connect() throws IOException {
        listener = new ServerSocket();
        listener.setReceiveBufferSize(8192); // inherited by the accepted socket: the stub's side reads little ahead
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        peer = new Socket();
        peer.setReceiveBufferSize(4096); // the peer's side holds few replies
        peer.setSendBufferSize(4096); // and little of its commands: the flood meets jhyve's reader soon
        peer.connect(listener.getLocalSocketAddress());
        stubSide = listener.accept();
        stubSide.setSendBufferSize(4096);
        connection = new GdbConnection(stubSide.getInputStream(), stubSide.getOutputStream(), target);
        Thread.ofPlatform().daemon().start(() -> {
            try {
                ended.complete(connection.serve());
            } catch (Exception e) {
                ended.completeExceptionally(e);
            }
        });
    }

    @AfterEach
    void close() throws IOException {
        peer.close();
        stubSide.close();
        listener.close();
    }

    @Test
    void aPeerThatNeverReadsIsReadNoFurtherThanTheBoundAndGetsEveryReplyOnceItReads() throws Exception {
        OutputStream toStub = peer.getOutputStream();
        InputStream fromStub = peer.getInputStream();
        toStub.write(PacketFrames.frame("QStartNoAckMode"));
        assertThat(new String(fromStub.readNBytes(1 + PacketFrames.frame("OK").length), StandardCharsets.ISO_8859_1))
                .isEqualTo("+" + new String(PacketFrames.frame("OK"), StandardCharsets.ISO_8859_1));
        toStub.write(PacketFrames.frame("vCont;c"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (target.whenStopped == null && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(target.whenStopped).as("the target runs").isNotNull();

        // While the target runs every command is answered E01; after its stop, qC is answered QC1.
        byte[] qc = PacketFrames.frame("qC");
        CompletableFuture<Void> flood = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < PACKETS; i++) toStub.write(qc);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, runnable -> Thread.ofPlatform().daemon().start(runnable));

        int settled = awaitSettled(flood);
        assertThat(settled).as("bytes of the peer's commands jhyve holds").isLessThanOrEqualTo(GdbConnection.MAX_QUEUED_BYTES);
        assertThat(flood).as("the peer's writes stall once jhyve stops reading").isNotDone();

        long t0 = System.nanoTime();
        target.whenStopped.accept(new Stop.Interrupted(1)); // as a vCPU reports a stop
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("ms the vCPU's stop report took").isLessThan(100);

        List<String> replies = readReplies(fromStub, PACKETS + 1);
        flood.get(30, TimeUnit.SECONDS);
        int stop = replies.indexOf("T02thread:1;");
        assertThat(stop).as("the stop reply is among the replies").isPositive();
        assertThat(replies.subList(0, stop)).as("replies while running").allMatch("E01"::equals);
        assertThat(replies.subList(stop + 1, replies.size())).as("replies once stopped").allMatch("QC1"::equals);

        toStub.write(PacketFrames.frame("qC"));
        assertThat(readReplies(fromStub, 1)).containsExactly("QC1");
        assertThat(ended).isNotDone();
    }

    /** Waits until the stub's queued bytes stop changing for half a second (or the flood is all sent); returns the most seen. */
    private int awaitSettled(CompletableFuture<Void> flood) throws InterruptedException {
        int most = 0, last = -1;
        long stableSince = System.nanoTime();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            int now = connection.queuedFromGdb();
            most = Math.max(most, now);
            if (now != last) {
                last = now;
                stableSince = System.nanoTime();
            } else if (System.nanoTime() - stableSince > TimeUnit.MILLISECONDS.toNanos(500) || flood.isDone()) {
                if (flood.isDone()) Thread.sleep(500); // let the reader take in what the kernel still holds
                return Math.max(most, connection.queuedFromGdb());
            }
            Thread.sleep(10);
        }
        return most;
    }

    /** Reads {@code count} framed replies (no-ack mode: nothing between them) and returns their payloads. */
    private static List<String> readReplies(InputStream in, int count) throws IOException {
        List<String> out = new ArrayList<>(count);
        StringBuilder payload = new StringBuilder();
        while (out.size() < count) {
            int b = in.read();
            assertThat(b).as("the stream goes on").isNotNegative();
            if (b != '$') throw new AssertionError("expected a packet, got byte " + b);
            payload.setLength(0);
            while ((b = in.read()) != '#') payload.append((char) b);
            in.read();
            in.read();
            out.add(payload.toString());
        }
        return out;
    }
}
