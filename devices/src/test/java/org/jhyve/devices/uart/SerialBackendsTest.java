package org.jhyve.devices.uart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jhyve.vm.DeviceConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class SerialBackendsTest {
    @Test
    void parsesEveryBackendKind() {
        assertThat(SerialBackends.parse("stdio")).isInstanceOf(SerialBackendSpec.Stdio.class);
        assertThat(SerialBackends.parse("autopty")).isInstanceOf(SerialBackendSpec.AutoPty.class);
        assertThat(SerialBackends.parse("tcp=127.0.0.1:5555"))
                .isEqualTo(new SerialBackendSpec.Tcp(new InetSocketAddress("127.0.0.1", 5555)));
        assertThat(SerialBackends.parse("/tmp/console.log")).isEqualTo(new SerialBackendSpec.File(Path.of("/tmp/console.log")));
        assertThat(SerialBackends.parse("com1.log")).isEqualTo(new SerialBackendSpec.File(Path.of("com1.log")));
    }

    @Test
    void badSpecsNameTheBadValue() {
        assertThatThrownBy(() -> SerialBackends.parse("stdoi")).hasMessageContaining("'stdoi'");
        assertThatThrownBy(() -> SerialBackends.parse("tcp=127.0.0.1")).hasMessageContaining("IP:PORT");
        assertThatThrownBy(() -> SerialBackends.parse("tcp=127.0.0.1:99999")).hasMessageContaining("0-65535");
        assertThatThrownBy(() -> SerialBackends.parse("tcp=127.0.0.1:http")).hasMessageContaining("bad TCP port");
        assertThatThrownBy(() -> SerialBackends.parse("tcp=example.com:23")).hasMessageContaining("IP address");
        assertThatThrownBy(() -> SerialBackends.parse("")).hasMessageContaining("missing");
    }

    @Test
    void fileBackendAppendsTheGuestsOutput(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("com1.log");
        Files.writeString(log, "before\n");
        try (SerialPort port = new SerialPort("com1", level -> { }, SerialBackends.open(new SerialBackendSpec.File(log)))) {
            for (char c : "guest\n".toCharArray()) port.uart().write(0, 1, c);
        }
        assertThat(Files.readString(log)).isEqualTo("before\nguest\n");
    }

    @Test
    void aDirectoryIsRefusedWithItsPath(@TempDir Path dir) {
        assertThatThrownBy(() -> SerialBackends.open(new SerialBackendSpec.File(dir)))
                .isInstanceOf(DeviceConfigException.class).hasMessageContaining(dir.toString());
    }

    @Test
    @Timeout(20)
    void tcpCarriesBytesBothWaysWithOneClientAtATime() throws Exception {
        TcpBackend backend = (TcpBackend) SerialBackends.open(new SerialBackendSpec.Tcp(new InetSocketAddress("127.0.0.1", 0)));
        try (SerialPort port = new SerialPort("com1", level -> { }, backend);
             Socket client = new Socket("127.0.0.1", backend.address().getPort())) {
            waitFor(backend::hasClient);
            port.uart().write(2, 1, 0x01); // FIFOs on
            client.getOutputStream().write("ping".getBytes());
            client.getOutputStream().flush();
            assertThat(readFromGuestSide(port, 4)).isEqualTo("ping");

            for (char c : "pong".toCharArray()) port.uart().write(0, 1, c);
            byte[] back = client.getInputStream().readNBytes(4);
            assertThat(new String(back)).isEqualTo("pong");

            try (Socket second = new Socket("127.0.0.1", backend.address().getPort())) {
                second.setSoTimeout(5000);
                assertThat(second.getInputStream().read()).as("second client is closed").isEqualTo(-1);
            }
        }
    }

    @Test
    void tcpBeyondLoopbackIsWarnedAboutInOneLine() {
        assertThat(TcpBackend.exposureWarning(new InetSocketAddress("127.0.0.1", 5555))).isEmpty();
        assertThat(TcpBackend.exposureWarning(new InetSocketAddress("::1", 5555))).isEmpty();
        assertThat(TcpBackend.exposureWarning(new InetSocketAddress("0.0.0.0", 5555))).hasValueSatisfying(w ->
                assertThat(w).startsWith("serial tcp=0.0.0.0:5555 listens beyond loopback: ").contains("without authentication").doesNotContain("\n"));
    }

    @Test
    void tcpBindFailureNamesTheAddress() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> SerialBackends.open(new SerialBackendSpec.Tcp(new InetSocketAddress("127.0.0.1", port))))
                    .isInstanceOf(DeviceConfigException.class).hasMessageContaining("127.0.0.1:" + port);
        }
    }

    @Test
    @Timeout(20)
    void ptyCarriesBytesBothWaysThroughTheSlavePath() throws Exception {
        PtyBackend pty = (PtyBackend) SerialBackends.open(new SerialBackendSpec.AutoPty());
        try (SerialPort port = new SerialPort("com1", level -> { }, pty)) {
            assertThat(pty.path()).startsWith("/dev/pts/");
            port.uart().write(2, 1, 0x01);
            try (InputStream fromGuest = new FileInputStream(pty.path()); OutputStream toGuest = new FileOutputStream(pty.path())) {
                for (char c : "out\n".toCharArray()) port.uart().write(0, 1, c);
                assertThat(new String(fromGuest.readNBytes(4))).as("raw mode: no \\r added").isEqualTo("out\n");
                toGuest.write("in".getBytes());
                toGuest.flush();
                assertThat(readFromGuestSide(port, 2)).isEqualTo("in");
            }
        }
    }

    @Test
    @Timeout(20)
    void inputLargerThanTheFifoArrivesWhole() throws Exception {
        PtyBackend pty = (PtyBackend) SerialBackends.open(new SerialBackendSpec.AutoPty());
        try (SerialPort port = new SerialPort("com1", level -> { }, pty);
             OutputStream toGuest = new FileOutputStream(pty.path())) {
            port.uart().write(2, 1, 0x01);
            byte[] data = new byte[3000];
            for (int i = 0; i < data.length; i++) data[i] = (byte) ('a' + i % 26);
            toGuest.write(data);
            toGuest.flush();
            byte[] got = new byte[data.length];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (int i = 0; i < got.length; ) {
                if ((port.uart().read(5, 1) & 1) != 0) got[i++] = (byte) port.uart().read(0, 1);
                else if (System.nanoTime() > deadline) break;
                else Thread.onSpinWait();
            }
            assertThat(got).isEqualTo(data);
        }
    }

    @Test
    void stdioWithoutATerminalStaysCooked() {
        // Under the test runner stdin is not a terminal, so the backend must not touch termios.
        try (StdioBackend stdio = new StdioBackend()) {
            assertThat(stdio.isRaw()).isFalse();
            assertThat(stdio.describe()).isEqualTo("stdio");
        }
    }

    /** Reads {@code n} bytes as a polling driver would: wait for LSR.DR, then read RBR. */
    private static String readFromGuestSide(SerialPort port, int n) throws InterruptedException {
        StringBuilder got = new StringBuilder();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (got.length() < n) {
            if ((port.uart().read(5, 1) & 1) != 0) got.append((char) port.uart().read(0, 1));
            else if (System.nanoTime() > deadline) break;
            else Thread.sleep(1);
        }
        return got.toString();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met in 10 s");
            Thread.sleep(10);
        }
    }
}
