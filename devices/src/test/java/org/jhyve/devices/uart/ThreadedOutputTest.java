package org.jhyve.devices.uart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Guest output to a stream whose writes block (jhyve's standard output, {@link StdioBackend}) through a thread of
 * its own: a reader that stops fills the UART's transmitter and never blocks the vCPU (it blocked in write(2)
 * for good before); once it reads, everything arrives in order.
 */
@Timeout(60)
class ThreadedOutputTest {
    /** A stream that blocks every write until the test opens it, as a pipe whose reader stopped does. */
    static final class GatedStream extends OutputStream {
        final CountDownLatch open = new CountDownLatch(1);
        final CountDownLatch blocked = new CountDownLatch(1);
        final ByteArrayOutputStream got = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            blocked.countDown();
            try {
                open.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (got) {
                got.write(b, off, len);
            }
        }

        byte[] bytes() {
            synchronized (got) {
                return got.toByteArray();
            }
        }
    }

    @Test
    void aStdoutNobodyReadsFillsTheTransmitterAndNeverBlocksTheGuestThenEverythingArrivesInOrder() throws Exception {
        GatedStream stream = new GatedStream();
        StdioBackend out = new StdioBackend(stream);
        Uart16550 uart = new Uart16550(level -> { }, new Uart16550.Transmitter() {
            @Override public void transmit(byte b) { out.transmit(b); }
            @Override public boolean ready() { return out.canTransmit(); }
        });
        out.onTransmitReady(uart::transmitterReady);
        int total = 1 << 20;
        AtomicInteger written = new AtomicInteger();
        AtomicBoolean sawFull = new AtomicBoolean();
        // The guest: a polling driver, waiting for THRE before each byte.
        CompletableFuture<Void> guest = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < total; i++) {
                while ((uart.read(Uart16550.LSR, 1) & Uart16550.LSR_THR_EMPTY) == 0) {
                    sawFull.set(true);
                    Thread.onSpinWait();
                }
                uart.write(Uart16550.RBR_THR_DLL, 1, 'a' + i % 26);
                written.incrementAndGet();
            }
        }, r -> Thread.ofPlatform().daemon().start(r));
        assertThat(stream.blocked.await(10, TimeUnit.SECONDS)).isTrue();
        int before;
        do {
            before = written.get();
            Thread.sleep(300);
        } while (written.get() != before);
        assertThat(guest).as("the guest waits for the transmitter, in its own loop and not in write(2)").isNotDone();
        assertThat(sawFull).isTrue();
        assertThat(written.get()).as("what waits for the reader is bounded").isLessThanOrEqualTo(ThreadedOutput.CAPACITY + 4096 + 16);

        stream.open.countDown();
        guest.get(30, TimeUnit.SECONDS);
        out.close();
        byte[] got = stream.bytes();
        assertThat(got).hasSize(total);
        for (int i = 0; i < total; i++) {
            if (got[i] != 'a' + i % 26) throw new AssertionError("byte " + i + " is " + got[i]);
        }
    }

    @Test
    void bytesWrittenIntoAFullTransmitterAreDroppedAndCountedAtOnce() throws Exception {
        GatedStream stream = new GatedStream();
        ThreadedOutput out = new ThreadedOutput(stream, "test");
        int beyond = 100;
        // A guest ignoring THRE: every write returns at once, what does not fit is dropped, as on a real UART.
        CompletableFuture.runAsync(() -> {
            for (int i = 0; i < ThreadedOutput.CAPACITY + 4096 + beyond; i++) out.transmit((byte) 'z');
        }).get(5, TimeUnit.SECONDS);
        assertThat(out.canTransmit()).isFalse();
        assertThat(out.dropped()).isBetween((long) beyond, 4096L + beyond);
        stream.open.countDown();
        out.close();
    }

    @Test
    void closeWritesWhatTheGuestWroteLast() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ThreadedOutput out = new ThreadedOutput(sink, "test");
        for (byte b : "reboot: Power down\n".getBytes()) out.transmit(b);
        out.close();
        assertThat(sink.toString()).isEqualTo("reboot: Power down\n");
    }

    @Test
    void closeDoesNotWaitLongForAReaderThatNeverReads() throws Exception {
        GatedStream stream = new GatedStream();
        ThreadedOutput out = new ThreadedOutput(stream, "test");
        out.transmit((byte) 'x');
        assertThat(stream.blocked.await(5, TimeUnit.SECONDS)).isTrue();
        out.transmit((byte) 'y');
        long start = System.nanoTime();
        out.close();
        assertThat(System.nanoTime() - start).isLessThan(ThreadedOutput.DRAIN_AT_CLOSE.toNanos() + TimeUnit.SECONDS.toNanos(2));
        stream.open.countDown();
    }
}
