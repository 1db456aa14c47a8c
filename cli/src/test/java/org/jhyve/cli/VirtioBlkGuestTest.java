package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-blk end to end with a driver that is not Linux: guests/src/main/c/virtio-blk.c finds the device on
 * PCI, negotiates through its capabilities, sets up a queue and reads, identifies, writes and flushes; the
 * host checks the same checksums and the image file. Also: {@code ro} refuses the write, and a flushed
 * write is in the image after a SIGKILL of jhyve. That only shows the data reached the host file (the page
 * cache outlives a killed process, so it passes without any fdatasync); that a FLUSH completes only after
 * the data is on stable storage is shown by VirtioBlkFlushStraceTest.
 */
@Timeout(120)
class VirtioBlkGuestTest {
    static final int SIZE = 1 << 20;
    @TempDir
    Path dir;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    byte[] original;

    Path image() throws Exception {
        original = new byte[SIZE];
        new Random(1234).nextBytes(original);
        return Files.write(dir.resolve("disk.img"), original);
    }

    static byte[] pattern() {
        byte[] p = new byte[4096];
        for (int i = 0; i < p.length; i++) p[i] = (byte) (i * 7 + 3);
        return p;
    }

    String[] args(Path img, String options) {
        return new String[] {"-m", "64M", "-s", "0:0,hostbridge", "-s", "4,virtio-blk," + img + options, "-s", "31,lpc",
                "-l", "com1,stdio", "-f", "kexec," + GuestImages.extract(dir, "virtio-blk.elf")};
    }

    @Test
    void aDriverReadsWritesAndFlushesThroughTheRealRegisters() throws Exception {
        Path img = image();
        JhyveProcess run = JhyveProcess.run(args(img, ",serial=jhyve-test"));
        assertThat(run.out()).isEqualTo(String.join("\r\n",
                "virtio-blk at 00:04.0", "capacity=0000000000000800", "ro=0",
                "read status=0 sum=" + GuestImages.fnv1a(original, 0, 4096),
                "id=jhyve-test", "id status=0", "write status=0", "flush status=0", "flushed",
                "readback status=0 sum=" + GuestImages.fnv1a(pattern(), 0, 4096), "done", ""));
        assertThat(run.err()).isEmpty();
        assertThat(run.status()).as("powered off").isEqualTo(1);
        byte[] after = Files.readAllBytes(img);
        assertThat(Arrays.copyOfRange(after, 4096, 8192)).isEqualTo(pattern());
        assertThat(Arrays.copyOfRange(after, 0, 4096)).isEqualTo(Arrays.copyOfRange(original, 0, 4096));
        assertThat(Arrays.copyOfRange(after, 8192, SIZE)).isEqualTo(Arrays.copyOfRange(original, 8192, SIZE));
    }

    @Test
    void aReadOnlyDiskSaysSoAndRefusesTheWrite() throws Exception {
        Path img = image();
        JhyveProcess run = JhyveProcess.run(args(img, ",ro"));
        assertThat(run.out()).contains("ro=1\r\n", "read status=0 sum=" + GuestImages.fnv1a(original, 0, 4096), "id=\r\n",
                "write status=1\r\n", "readback status=0 sum=" + GuestImages.fnv1a(original, 4096, 4096));
        assertThat(run.status()).isEqualTo(1);
        assertThat(Files.readAllBytes(img)).isEqualTo(original);
    }

    @Test
    void aFlushedWriteIsInTheImageAfterSigkill() throws Exception {
        Path img = image();
        Process p = JhyveProcess.start(dir.resolve("err.txt"), args(img, ",serial=hold"));
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.equals("flushed")) {
                assertThat(line).doesNotContain("timeout", "status=1", "status=2");
            }
            assertThat(line).as("the guest flushed").isEqualTo("flushed");
            p.destroyForcibly(); // SIGKILL: no shutdown hook, no close, no flush of jhyve's own
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(p.exitValue()).isEqualTo(137);
        assertThat(Arrays.copyOfRange(Files.readAllBytes(img), 4096, 8192)).isEqualTo(pattern());
    }
}
