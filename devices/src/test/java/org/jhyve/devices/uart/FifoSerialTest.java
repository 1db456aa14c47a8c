package org.jhyve.devices.uart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.vm.DeviceConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * FIFOs as a serial path, made with {@code mkfifo} (coreutils): one FIFO would carry the guest's output back
 * to it as input, so it is refused; PATH.in and PATH.out (QEMU's pipe convention) carry one direction each, and
 * a reader of PATH.out that stops reading fills the transmitter instead of stalling a vCPU in write(2).
 */
@Timeout(60)
class FifoSerialTest {
    @TempDir
    Path dir;

    private Path mkfifo(String name) throws Exception {
        Path p = dir.resolve(name);
        Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        assertThat(mk.waitFor()).as("mkfifo " + p).isZero();
        return p;
    }

    @Test
    void oneFifoForBothDirectionsIsRefusedInOneLineSayingWhatToDo() throws Exception {
        Path fifo = mkfifo("com1");
        assertThatThrownBy(() -> SerialBackends.open(new SerialBackendSpec.File(fifo)))
                .isInstanceOf(DeviceConfigException.class)
                .hasMessage(fifo + " is a FIFO: one FIFO would hand the guest's output back to it as input; "
                        + "make " + fifo + ".in and " + fifo + ".out (mkfifo) and give " + fifo);
    }

    @Test
    void withPathInAndPathOutTheGuestsOutputGoesOutAndNeverComesBack() throws Exception {
        Path in = mkfifo("com1.in");
        Path out = mkfifo("com1.out");
        Path path = dir.resolve("com1");
        SerialBackend backend = SerialBackends.open(new SerialBackendSpec.File(path));
        try (SerialPort port = new SerialPort("com1", level -> { }, backend);
             RandomAccessFile fromGuest = openNoWait(out);
             RandomAccessFile toGuest = openNoWait(in)) {
            assertThat(backend.describe()).isEqualTo(in + " and " + out);
            PollingDriver guest = new PollingDriver(port.uart());
            guest.print("hello\n");
            assertThat(new String(readWithin(fromGuest, 6), StandardCharsets.ISO_8859_1)).isEqualTo("hello\n");
            Thread.sleep(300);
            assertThat(port.uart().read(Uart16550.LSR, 1) & Uart16550.LSR_DATA_READY).as("nothing came back to the guest").isZero();

            toGuest.write("typed".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(guest.readString(5)).isEqualTo("typed");
            assertThat(port.uart().read(Uart16550.LSR, 1) & Uart16550.LSR_DATA_READY).isZero();
        }
    }

    @Test
    void aReaderOfPathOutThatStopsReadingFillsTheTransmitterAndThenGetsEveryByteInOrder() throws Exception {
        mkfifo("com1.in");
        Path out = mkfifo("com1.out");
        SerialBackend backend = SerialBackends.open(new SerialBackendSpec.File(dir.resolve("com1")));
        int total = 1 << 20; // far more than a pipe holds (64 KiB)
        try (SerialPort port = new SerialPort("com1", level -> { }, backend); RandomAccessFile fromGuest = openNoWait(out)) {
            Uart16550 uart = port.uart();
            AtomicInteger written = new AtomicInteger();
            AtomicBoolean sawFull = new AtomicBoolean();
            CompletableFuture<Void> guest = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < total; i++) {
                    while ((uart.read(Uart16550.LSR, 1) & Uart16550.LSR_THR_EMPTY) == 0) {
                        sawFull.set(true);
                        Thread.onSpinWait();
                    }
                    uart.write(Uart16550.RBR_THR_DLL, 1, (i * 7) & 0xff);
                    written.incrementAndGet();
                }
            }, r -> Thread.ofPlatform().daemon().start(r));
            int before;
            do {
                before = written.get();
                Thread.sleep(500);
            } while (written.get() != before && !guest.isDone());
            assertThat(guest).as("the guest waits for the transmitter, not in write(2)").isNotDone();
            assertThat(sawFull).isTrue();
            assertThat(uart.read(Uart16550.LSR, 1) & (Uart16550.LSR_THR_EMPTY | Uart16550.LSR_TX_EMPTY)).isZero();

            byte[] got = readWithin(fromGuest, total);
            guest.get(30, TimeUnit.SECONDS);
            for (int i = 0; i < total; i++) {
                if (got[i] != (byte) (i * 7)) throw new AssertionError("byte " + i + " is " + got[i]);
            }
        }
    }

    @Test
    void aRegularFileStillRecordsTheOutput() throws IOException {
        Path log = dir.resolve("com1.log");
        try (SerialPort port = new SerialPort("com1", level -> { }, SerialBackends.open(new SerialBackendSpec.File(log)))) {
            new PollingDriver(port.uart()).print("ok\n");
        }
        assertThat(Files.readString(log)).isEqualTo("ok\n");
    }

    /** Opens a FIFO read-write, as the test's end: that never waits for the other end to be opened. */
    private static RandomAccessFile openNoWait(Path fifo) throws IOException {
        return new RandomAccessFile(fifo.toFile(), "rw");
    }

    /** {@code n} bytes from {@code f}, failing after 20 s (a read of a FIFO nobody writes would never return). */
    private static byte[] readWithin(RandomAccessFile f, int n) throws Exception {
        CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
            byte[] b = new byte[n];
            try {
                f.readFully(b);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return b;
        }, r -> Thread.ofPlatform().daemon().start(r));
        return read.get(20, TimeUnit.SECONDS);
    }
}
