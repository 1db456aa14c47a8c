package org.jhyve.devices.uart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code tcp=} with a client that connects and stops reading while the guest writes megabytes, as a polling
 * driver does (wait for THRE, write THR): jhyve holds at most {@link TcpBackend#MAX_BUFFERED} bytes, the guest
 * sees a full transmitter instead of losing bytes, and once the client reads, everything arrives in order.
 */
class TcpBackPressureTest {
    private static final int TOTAL = 2 << 20;

    private static byte patternByte(int i) {
        return (byte) (i * 31 % 251);
    }

    @Test
    @Timeout(120)
    void aClientThatStopsReadingFillsTheTransmitterAndThenGetsEveryByteInOrder() throws Exception {
        TcpBackend backend = new TcpBackend(new InetSocketAddress("127.0.0.1", 0));
        try (SerialPort port = new SerialPort("com1", level -> { }, backend); Socket client = new Socket()) {
            client.setReceiveBufferSize(4096); // a slow line: the kernel holds little for it
            client.connect(backend.address());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!backend.hasClient() && System.nanoTime() < deadline) Thread.sleep(5);
            Uart16550 uart = port.uart();

            AtomicInteger written = new AtomicInteger();
            AtomicBoolean sawFull = new AtomicBoolean();
            CompletableFuture<Void> guest = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < TOTAL; i++) {
                    while ((uart.read(Uart16550.LSR, 1) & Uart16550.LSR_THR_EMPTY) == 0) {
                        sawFull.set(true);
                        Thread.onSpinWait();
                    }
                    uart.write(Uart16550.RBR_THR_DLL, 1, patternByte(i) & 0xff);
                    written.incrementAndGet();
                }
            }, r -> Thread.ofPlatform().daemon().start(r));

            int stalledAt = awaitStall(written, guest);
            assertThat(sawFull).as("the guest saw THRE clear").isTrue();
            assertThat(guest).as("the guest waits for the transmitter").isNotDone();
            assertThat(backend.bufferedBytes()).as("bytes jhyve holds for the client").isLessThanOrEqualTo(TcpBackend.MAX_BUFFERED);
            assertThat(uart.read(Uart16550.LSR, 1) & (Uart16550.LSR_THR_EMPTY | Uart16550.LSR_TX_EMPTY))
                    .as("THRE and TEMT while the line is full").isZero();
            assertThat(stalledAt).isLessThan(TOTAL);

            InputStream in = client.getInputStream();
            byte[] got = in.readNBytes(TOTAL);
            guest.get(60, TimeUnit.SECONDS);
            assertThat(got.length).isEqualTo(TOTAL);
            for (int i = 0; i < TOTAL; i++) {
                if (got[i] != patternByte(i)) throw new AssertionError("byte " + i + " is " + got[i] + ", expected " + patternByte(i));
            }
            assertThat(backend.dropped()).as("bytes dropped").isZero();
            assertThat(uart.read(Uart16550.LSR, 1) & Uart16550.LSR_THR_EMPTY).as("THRE once the client has read").isNotZero();
        }
    }

    /** Waits until the guest has written nothing for half a second (or is done); returns how much it wrote. */
    private static int awaitStall(AtomicInteger written, CompletableFuture<Void> guest) throws InterruptedException {
        int last = -1;
        long since = System.nanoTime();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!guest.isDone() && System.nanoTime() < deadline) {
            int now = written.get();
            if (now != last) {
                last = now;
                since = System.nanoTime();
            } else if (System.nanoTime() - since > TimeUnit.MILLISECONDS.toNanos(500)) {
                return now;
            }
            Thread.sleep(10);
        }
        return written.get();
    }
}
