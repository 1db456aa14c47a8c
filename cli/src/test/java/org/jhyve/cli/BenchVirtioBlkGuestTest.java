package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The virtio-blk benchmark guest (guests/src/main/c/bench-virtio-blk.c) once per workload, briefly: what is
 * asserted is its data checks (every status byte 0, every sector read carrying its own number, the verification
 * pass's hash equal to the image's, and after writes the same again), not its speed. It boots through PVH and
 * runs its loop at CPL3, as scripts/bench-devices runs it against QEMU.
 */
@Timeout(120)
class BenchVirtioBlkGuestTest {
    private static final long IMAGE = 8 << 20;
    private static final Pattern RESULT = Pattern.compile("bench virtio-blk op=(\\S+) bs=(\\d+) qd=(\\d+) ms=\\d+ ios=(\\d+) .* errors=(\\d+) badreads=(\\d+) hash=0x(\\p{XDigit}+) verify=(\\S+)\r\n");
    @TempDir
    Path dir;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    private JhyveProcess run(Path image, String options, String args) throws Exception {
        return JhyveProcess.run("-m", "128M", "-s", "0:0,hostbridge", "-s", "4,virtio-blk," + image + options, "-s", "31,lpc",
                "-l", "com1,stdio", "-f", "kexec," + GuestImages.extract(dir, "bench-virtio-blk.elf") + ",," + args);
    }

    @ParameterizedTest(name = "{0} bs={1} qd={2} {3}")
    @CsvSource({"randread, 4096, 32, nocache", "read, 131072, 4, cached", "randwrite, 4096, 8, nocache", "write, 65536, 2, cached"})
    void everyRequestCompletesWithTheRightData(String op, int bs, int qd, String cache) throws Exception {
        Path image = dir.resolve("disk.img");
        BenchDiskPattern.write(image, IMAGE);
        if (cache.equals("nocache")) assumeDirectIo(image);
        int expected = BenchDiskPattern.fnv1a(image, IMAGE);
        JhyveProcess run = run(image, cache.equals("nocache") ? ",nocache" : "", "op=" + op + " bs=" + bs + " qd=" + qd + " ms=300 warmup=0");
        Matcher m = RESULT.matcher(run.out());
        assertThat(m.find()).as("a result line in %s", run.out()).isTrue();
        assertThat(m.group(1)).isEqualTo(op);
        assertThat(Integer.parseInt(m.group(3))).isEqualTo(qd);
        assertThat(Long.parseLong(m.group(4))).as("requests completed").isPositive();
        assertThat(m.group(5)).as("requests with a bad status").isEqualTo("0");
        assertThat(m.group(6)).as("reads of the wrong sectors").isEqualTo("0");
        assertThat(Integer.parseUnsignedInt(m.group(7), 16)).as("hash of the image read through the device").isEqualTo(expected);
        assertThat(m.group(8)).isEqualTo("ok");
        assertThat(run.status()).as("powered off").isEqualTo(1);
        assertThat(BenchDiskPattern.fnv1a(image, IMAGE)).as("the image after the run still holds the pattern").isEqualTo(expected);
    }

    /** nocache is O_DIRECT, which tmpfs and some other file systems refuse: the test says so rather than fail. */
    private void assumeDirectIo(Path image) {
        try (var ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.READ, com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
            ch.size();
        } catch (java.io.IOException | UnsupportedOperationException e) {
            org.junit.jupiter.api.Assumptions.abort("O_DIRECT is not supported by the file system under " + dir + ": " + e.getMessage());
        }
    }

    @Test
    void aDiskWithoutThePatternIsReportedNotMeasured() throws Exception {
        Path image = Files.write(dir.resolve("zero.img"), new byte[1 << 20]);
        JhyveProcess run = run(image, "", "op=randread qd=1 ms=100 warmup=0");
        assertThat(run.out()).contains("bench error: sector 0 does not hold the pattern").doesNotContain("bench virtio-blk");
    }
}
