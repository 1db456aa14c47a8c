package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AHCI benchmark guest (guests/src/main/c/bench-ahci.c) once on jhyve, briefly: its data checks, not its
 * speed. It finds the HBA, brings the port up and IDENTIFYs the disk, verifies the whole image against the pattern
 * (hash=), keeps NCQ commands in flight from CPL3 for 200 ms, checking every sector each read brings, and after
 * writes (of the pattern itself) flushes and verifies again.
 */
@Timeout(120)
class AhciBenchGuestTest {
    static final long DISK_BYTES = 8 << 20;

    @TempDir
    Path dir;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    /**
     * Runs the guest on a fresh pattern image and returns its result line as key=value pairs, having checked
     * that it ended cleanly, printed the image's hash, and left the image as it was (writes write the pattern).
     */
    Map<String, String> bench(String guestArgs) throws Exception {
        Path disk = dir.resolve("disk.img");
        BenchDiskPattern.write(disk, DISK_BYTES);
        int hash = BenchDiskPattern.fnv1a(disk, DISK_BYTES);
        JhyveProcess run = JhyveProcess.run("-m", "64M", "-s", "0:0,hostbridge", "-s", "4,ahci-hd," + disk, "-s", "31,lpc",
                "-l", "com1,stdio", "-f", "kexec," + GuestImages.extract(dir, "bench-ahci.elf") + ",," + guestArgs);
        assertThat(run.status()).as("powered off; stdout %s stderr %s", run.out(), run.err()).isEqualTo(1);
        assertThat(run.out()).startsWith("ahci at 00:04.0 port 0 sectors=" + DISK_BYTES / 512 + " ncq-depth=32 slots=32\r\n");
        String line = run.out().lines().filter(l -> l.startsWith("bench ahci ")).findFirst()
                .orElseThrow(() -> new AssertionError("no result line in " + run.out() + run.err()));
        Map<String, String> result = new HashMap<>();
        for (String kv : line.substring("bench ahci ".length()).split(" ")) {
            String[] p = kv.split("=", 2);
            result.put(p[0], p.length > 1 ? p[1] : "");
        }
        assertThat(result).as(line).containsEntry("errors", "0").containsEntry("badreads", "0").containsEntry("verify", "ok")
                .containsEntry("hash", "0x" + Integer.toHexString(hash));
        assertThat(Long.parseLong(result.get("ios"))).as("commands completed in the timed phase").isPositive();
        assertThat(BenchDiskPattern.fnv1a(disk, DISK_BYTES)).as("the image afterwards").isEqualTo(hash);
        return result;
    }

    @Test
    void randomReadsAtDepth32CheckEverySectorAndTheWholeImage() throws Exception {
        Map<String, String> r = bench("op=randread bs=4096 qd=32 ms=200 warmup=0");
        assertThat(r).containsEntry("op", "randread").containsEntry("qd", "32");
    }

    @Test
    void randomWritesAtDepth4FlushAndLeaveThePatternAsItWas() throws Exception {
        Map<String, String> r = bench("op=randwrite bs=4096 qd=4 ms=200 warmup=0");
        assertThat(r).containsEntry("op", "randwrite").containsEntry("qd", "4");
    }
}
