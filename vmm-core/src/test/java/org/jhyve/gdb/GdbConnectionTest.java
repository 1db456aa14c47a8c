package org.jhyve.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A session over pipes: acknowledgements, NAK and resend, no-ack mode, Ctrl-C while running, detach. */
@Timeout(10)
class GdbConnectionTest {
    private final FakeTarget target = new FakeTarget();
    private PipedOutputStream toStub;
    private InputStream fromStub;
    private GdbConnection connection;
    private CompletableFuture<GdbConnection.End> ended;

    @BeforeEach
    void start() throws IOException {
        PipedInputStream stubIn = new PipedInputStream(1 << 16);
        toStub = new PipedOutputStream(stubIn);
        PipedOutputStream stubOut = new PipedOutputStream();
        fromStub = new PipedInputStream(stubOut, 1 << 16);
        connection = new GdbConnection(stubIn, stubOut, target);
        ended = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                ended.complete(connection.serve());
            } catch (Exception e) {
                ended.completeExceptionally(e);
            }
        });
    }

    @AfterEach
    void stop() throws IOException {
        toStub.close();
    }

    private void send(String raw) throws IOException {
        toStub.write(raw.getBytes(StandardCharsets.ISO_8859_1));
        toStub.flush();
    }

    private void sendPacket(String payload) throws IOException {
        toStub.write(PacketFrames.frame(payload));
        toStub.flush();
    }

    /** The next n bytes the stub sends. */
    private String receive(int n) throws IOException {
        return new String(fromStub.readNBytes(n), StandardCharsets.ISO_8859_1);
    }

    private String framed(String payload) {
        return new String(PacketFrames.frame(payload), StandardCharsets.ISO_8859_1);
    }

    @Test
    void everyGoodPacketIsAcknowledgedAndANakGetsTheReplyAgain() throws IOException {
        send("+");
        sendPacket("?");
        assertThat(receive(1 + framed("T05thread:1;").length())).isEqualTo("+" + framed("T05thread:1;"));
        send("-");
        assertThat(receive(framed("T05thread:1;").length())).isEqualTo(framed("T05thread:1;"));
        send("$?#00");
        assertThat(receive(1)).as("a damaged packet is NAKed").isEqualTo("-");
    }

    @Test
    void afterNoAckModeNothingIsAcknowledged() throws IOException {
        sendPacket("QStartNoAckMode");
        assertThat(receive(1 + framed("OK").length())).isEqualTo("+" + framed("OK"));
        send("+");
        sendPacket("qC");
        assertThat(receive(framed("QC1").length())).isEqualTo(framed("QC1"));
    }

    @Test
    void ctrlCStopsARunningTargetAndTheStopReplyFollows() throws Exception {
        sendPacket("QStartNoAckMode");
        receive(1 + framed("OK").length());
        sendPacket("vCont;c");
        awaitResumed();
        assertThat(target.resumes).containsExactly(Map.of(1, ResumeAction.CONTINUE, 2, ResumeAction.CONTINUE));
        sendPacket("g");
        assertThat(receive(framed("E01").length())).as("all-stop: no commands while running").isEqualTo(framed("E01"));
        send("\u0003");
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (target.interrupts == 0 && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(target.interrupts).isEqualTo(1);
        target.whenStopped.accept(new Stop.Interrupted(2));
        assertThat(receive(framed("T02thread:2;").length())).isEqualTo(framed("T02thread:2;"));
        sendPacket("qC");
        assertThat(receive(framed("QC2").length())).isEqualTo(framed("QC2"));
    }

    @Test
    void detachRepliesOkAndEndsTheSession() throws Exception {
        sendPacket("QStartNoAckMode");
        receive(1 + framed("OK").length());
        sendPacket("D");
        assertThat(receive(framed("OK").length())).isEqualTo(framed("OK"));
        assertThat(ended.get(5, TimeUnit.SECONDS)).isEqualTo(GdbConnection.End.DETACHED);
        assertThat(target.detached).isTrue();
    }

    @Test
    void aClosedStreamEndsTheSession() throws Exception {
        toStub.close();
        assertThat(ended.get(5, TimeUnit.SECONDS)).isEqualTo(GdbConnection.End.DISCONNECTED);
    }

    @Test
    void theExitReplyQueuedBeforeShutDownIsStillSent() throws Exception {
        sendPacket("QStartNoAckMode");
        receive(1 + framed("OK").length());
        sendPacket("c");
        awaitResumed();
        target.whenStopped.accept(new Stop.Exited(1));
        connection.shutDown();
        assertThat(receive(framed("W01").length())).isEqualTo(framed("W01"));
        assertThat(ended.get(5, TimeUnit.SECONDS)).isEqualTo(GdbConnection.End.SHUT_DOWN);
    }

    private void awaitResumed() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (target.whenStopped == null && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(target.whenStopped).isNotNull();
    }
}
