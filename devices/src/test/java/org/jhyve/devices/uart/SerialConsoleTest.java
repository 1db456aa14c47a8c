package org.jhyve.devices.uart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The stream pair a program reads and types the guest's console through. */
@Timeout(30)
class SerialConsoleTest {
    private static SerialPort port(SerialConsole console) {
        return new SerialPort("com1", level -> { }, SerialBackends.open(console.spec()));
    }

    private static String read(SerialConsole console, int n) throws IOException {
        return new String(console.output().readNBytes(n), StandardCharsets.ISO_8859_1);
    }

    @Test
    void outputIsReadWhileThePortRunsAndEndsWhenItCloses() throws Exception {
        SerialConsole console = new SerialConsole();
        SerialPort port = port(console);
        PollingDriver guest = new PollingDriver(port.uart());
        guest.print("hello\r\n");
        assertThat(read(console, 7)).isEqualTo("hello\r\n");

        CompletableFuture<byte[]> rest = CompletableFuture.supplyAsync(() -> {
            try {
                return console.output().readAllBytes(); // blocks until end of stream
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        guest.print("bye");
        Thread.sleep(50);
        assertThat(rest).as("no end of stream while the port is open").isNotDone();
        port.close();
        assertThat(new String(rest.get(10, TimeUnit.SECONDS), StandardCharsets.ISO_8859_1)).isEqualTo("bye");
        assertThat(console.output().read()).isEqualTo(-1);
    }

    @Test
    void typedInputReachesTheGuestAndFailsOnceThePortIsClosed() throws Exception {
        SerialConsole console = new SerialConsole();
        try (SerialPort port = port(console)) {
            console.input().write("ping".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(new PollingDriver(port.uart()).readString(4)).isEqualTo("ping");
        }
        assertThatThrownBy(() -> console.input().write('x')).isInstanceOf(IOException.class).hasMessageContaining("closed");
    }

    @Test
    void theStreamsDoNotCareWhichThreadsUseThem() throws Exception {
        // java.io.PipedInputStream fails with "Write end dead" here: its writer thread has ended.
        SerialConsole console = new SerialConsole();
        try (SerialPort port = port(console)) {
            Thread vcpu = Thread.ofPlatform().start(() -> new PollingDriver(port.uart()).print("from a thread that ends"));
            vcpu.join();
            assertThat(read(console, 23)).isEqualTo("from a thread that ends");
        }
    }

    @Test
    void whenNobodyReadsTheOldestOutputIsDroppedAndCounted() throws Exception {
        SerialConsole console = new SerialConsole(8);
        try (SerialPort port = port(console)) {
            new PollingDriver(port.uart()).print("0123456789ABCDEF");
            assertThat(console.droppedBytes()).isEqualTo(8);
        }
        assertThat(new String(console.output().readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo("89ABCDEF");
    }

    @Test
    void aGuestPrintingMoreThanTheBufferIsNeverHeldUp() throws Exception {
        SerialConsole console = new SerialConsole();
        try (SerialPort port = port(console)) {
            int total = 3 * SerialConsole.DEFAULT_OUTPUT_CAPACITY;
            for (int i = 0; i < total; i++) port.backend().transmit((byte) i); // the @Timeout fails a vCPU that blocks
            assertThat(console.droppedBytes()).isEqualTo(total - SerialConsole.DEFAULT_OUTPUT_CAPACITY);
            assertThat(console.output().available()).isEqualTo(SerialConsole.DEFAULT_OUTPUT_CAPACITY);
        }
    }

    @Test
    void aProgramThatStopsReadingDoesNotDisturbTheGuest() throws Exception {
        SerialConsole console = new SerialConsole();
        try (SerialPort port = port(console)) {
            console.output().close();
            new PollingDriver(port.uart()).print("nobody listens");
            assertThat(console.output().read()).isEqualTo(-1);
            assertThat(console.droppedBytes()).isZero();
        }
    }

    @Test
    void closingTheConsoleItselfEndsItsReaders() throws Exception {
        // For when no VM will close it, e.g. the build failed before the lpc device opened the streams.
        SerialConsole console = new SerialConsole();
        CompletableFuture<Integer> blocked = CompletableFuture.supplyAsync(() -> {
            try {
                return console.output().read();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Thread.sleep(50);
        assertThat(blocked).isNotDone();
        console.close();
        assertThat(blocked.get(10, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThatThrownBy(() -> console.input().write('x')).isInstanceOf(IOException.class);
    }
}
