package org.jhyve.devices.uart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A port on a program's own streams, driven through the UART's registers as a guest does. */
@Timeout(30)
class StreamBackendTest {
    private static SerialPort port(InputStream toGuest, OutputStream fromGuest) {
        return new SerialPort("com1", level -> { }, SerialBackends.open(new SerialBackendSpec.Streams(toGuest, fromGuest)));
    }

    @Test
    void describesItselfAndRefusesNullStreams() {
        try (StreamBackend backend = new StreamBackend(InputStream.nullInputStream(), OutputStream.nullOutputStream())) {
            assertThat(backend.describe()).isEqualTo("java streams");
        }
        assertThatThrownBy(() -> new SerialBackendSpec.Streams(null, OutputStream.nullOutputStream()))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("toGuest");
        assertThatThrownBy(() -> new SerialBackendSpec.Streams(InputStream.nullInputStream(), null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("fromGuest");
    }

    @Test
    void guestOutputArrivesInOrderAndNothingWaitsInABuffer() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (SerialPort port = port(InputStream.nullInputStream(), new BufferedOutputStream(sink, 8192))) {
            new PollingDriver(port.uart()).print("booting\nlogin: ");
            // A prompt has no newline; it must reach the program all the same.
            assertThat(sink.toString()).isEqualTo("booting\nlogin: ");
        }
    }

    @Test
    void inputReachesTheGuestThroughTheReceiverWholeAndInOrder() throws Exception {
        byte[] data = new byte[3 * SerialInput.CAPACITY]; // more than the input buffer: the reader must wait for room
        for (int i = 0; i < data.length; i++) data[i] = (byte) ('a' + i % 26);
        try (SerialPort port = port(new ByteArrayInputStream(data), OutputStream.nullOutputStream())) {
            assertThat(new PollingDriver(port.uart()).read(data.length)).isEqualTo(data);
        }
    }

    @Test
    void closeClosesBothStreamsAndEndsAReaderBlockedOnASocket() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            CompletableFuture<Thread> readerThread = new CompletableFuture<>();
            InputStream toGuest = new RecordingInput(accepted.getInputStream(), readerThread);
            AtomicInteger outputCloses = new AtomicInteger();
            OutputStream fromGuest = new OutputStream() {
                @Override public void write(int b) { }
                @Override public void close() { outputCloses.incrementAndGet(); }
            };
            SerialPort port = port(toGuest, fromGuest);
            Thread reader = readerThread.get(10, TimeUnit.SECONDS);
            assertThat(reader.getName()).startsWith("jhyve-serial-");
            assertThat(reader.isDaemon()).isTrue();
            Thread.sleep(50);
            assertThat(reader.isAlive()).as("blocked reading the socket").isTrue();

            port.close();
            assertThat(reader.isAlive()).as("close() joined the reader").isFalse();
            assertThat(accepted.isClosed()).as("closing its input stream closes the socket").isTrue();
            assertThat(outputCloses).hasValue(1);
            port.close();
            assertThat(outputCloses).as("close is idempotent").hasValue(1);
        }
    }

    @Test
    void closeWaitsOnlyBrieflyForAStreamThatIgnoresClose() throws Exception {
        Semaphore release = new Semaphore(0);
        CompletableFuture<Thread> readerThread = new CompletableFuture<>();
        InputStream stubborn = new InputStream() { // like System.in: neither close nor interrupt wakes a blocked read
            @Override
            public int read() {
                byte[] one = new byte[1];
                read(one, 0, 1);
                return one[0];
            }

            @Override
            public int read(byte[] b, int off, int len) {
                readerThread.complete(Thread.currentThread());
                release.acquireUninterruptibly();
                b[off] = 'x';
                return 1;
            }
        };
        SerialPort port = port(stubborn, OutputStream.nullOutputStream());
        Thread reader = readerThread.get(10, TimeUnit.SECONDS);
        long start = System.nanoTime();
        port.close();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5000);
        assertThat(reader.isAlive()).isTrue();
        release.release();
        reader.join(5000);
        assertThat(reader.isAlive()).as("ends at its next byte, which the closed input refuses").isFalse();
    }

    @Test
    void aFailingOutputStreamIsTriedOnceAndTheGuestCarriesOn() {
        for (Exception failure : List.of(new IOException("Broken pipe"), new IllegalStateException("a bug in the program"))) {
            AtomicInteger writes = new AtomicInteger();
            OutputStream broken = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    writes.incrementAndGet();
                    if (failure instanceof IOException e) throw e;
                    throw (RuntimeException) failure;
                }
            };
            try (SerialPort port = port(InputStream.nullInputStream(), broken)) {
                new PollingDriver(port.uart()).print("hello\n");
                assertThat(port.uart().read(Uart16550.LSR, 1) & Uart16550.LSR_TX_EMPTY).isNotZero();
            }
            assertThat(writes).as("dropped after the first failure").hasValue(1);
        }
    }

    @Test
    void aFailingInputStreamEndsTheInputOnly() throws Exception {
        InputStream broken = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("Connection reset");
            }
        };
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (SerialPort port = port(broken, sink)) {
            new PollingDriver(port.uart()).print("still here");
            assertThat(sink.toString()).isEqualTo("still here");
        }
    }

    /** Passes reads through, first telling which thread reads. */
    private static final class RecordingInput extends InputStream {
        private final InputStream in;
        private final CompletableFuture<Thread> reader;
        private volatile boolean closed;

        RecordingInput(InputStream in, CompletableFuture<Thread> reader) {
            this.in = in;
            this.reader = reader;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        /** Takes a moment to give up once closed, so that a close() that does not wait for the reader shows. */
        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            reader.complete(Thread.currentThread());
            try {
                return in.read(b, off, len);
            } finally {
                if (closed) {
                    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
                    while (System.nanoTime() < until) Thread.onSpinWait(); // deaf to interrupts too
                }
            }
        }

        @Override
        public void close() throws IOException {
            closed = true;
            in.close();
        }
    }
}
