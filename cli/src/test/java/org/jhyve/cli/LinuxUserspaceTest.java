package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guest userspace end to end: jhyve's guest kernel (the variant whose user programs can make system calls on
 * this host, JHYVE_GUEST_KERNEL_USERSPACE; see docs/guest-kernel.md) boots with two vCPUs and two virtio-blk
 * disks, and the initramfs's busybox runs commands whose output the test checks: uname, nproc, free, a dd
 * read of the raw disk checked against the host's checksum, a dd write the host then finds in the image, and
 * an ext4 file system made on the host, mounted, read and written in the guest and checked again on the host.
 */
@Timeout(900)
class LinuxUserspaceTest {
    private static Path kernelDir;
    private static Path initrd;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void guestKernel() {
        GuestImages.assumeKvm();
        String k = System.getenv("JHYVE_GUEST_KERNEL_USERSPACE");
        String i = System.getenv("JHYVE_GUEST_INITRD");
        Assumptions.assumeTrue(k != null && i != null,
                "Linux userspace test skipped: JHYVE_GUEST_KERNEL_USERSPACE/JHYVE_GUEST_INITRD not set (scripts/test sets both from scripts/build-guest-kernel --variant auto and scripts/make-initrd)");
        kernelDir = Path.of(k);
        initrd = Path.of(i);
        assertThat(kernelDir.resolve("vmlinux")).isRegularFile();
    }

    @Test
    void busyboxRunsCommandsAndUsesVirtioDisksThenPowersOff(@TempDir Path dir) throws Exception {
        Path raw = DiskImages.randomMbrDisk(dir.resolve("raw.img"), 16, 42);
        Path content = Files.createDirectories(dir.resolve("content"));
        Files.writeString(content.resolve("hello.txt"), "hello from the host\n");
        Path ext4 = DiskImages.ext4(dir.resolve("ext4.img"), 16, content);
        String expectedReadSum = DiskImages.sha256(DiskImages.read(raw, 2L << 20, 1 << 20));

        String script = String.join(";",
                "uname -r", "nproc", "free -m | grep Mem:", "grep -m1 'cpu cores' /proc/cpuinfo", "grep -m1 siblings /proc/cpuinfo",
                "echo vda-sum $(dd if=/dev/vda bs=65536 skip=32 count=16 2>/dev/null | sha256sum)",
                "yes jhyve-write | head -c 1048576 | dd of=/dev/vda bs=65536 seek=64 conv=fsync 2>/dev/null && echo vda-write-ok",
                "mount -t ext4 /dev/vdb /mnt && cat /mnt/hello.txt && echo from-guest > /mnt/guest.txt && umount /mnt && echo vdb-ok",
                "echo vda-block-size $(cat /sys/block/vda/queue/logical_block_size)",
                "echo vda-serial $(cat /sys/block/vda/serial)",
                "echo vdb-queues $(ls /sys/block/vdb/mq | wc -l)",
                "blkdiscard -o 8388608 -l 1048576 /dev/vda && echo vda-discard-ok");
        String cmdline = "console=ttyS0 panic=-1 quiet " + DiskImages.runParameter(script);
        JhyveProcess run = JhyveProcess.run("-A", "-m", "256M", "-c", "2", "-s", "0:0,hostbridge",
                "-s", "4,virtio-blk," + raw + ",serial=jhyve-raw,sectorsize=4096", "-s", "5,virtio-blk," + ext4 + ",num-queues=2", "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + kernelDir.resolve("vmlinux") + "," + initrd + "," + cmdline);
        Files.writeString(Path.of("target", "linux-userspace-console.log"), run.out());

        Properties info = new Properties();
        try (var in = Files.newBufferedReader(kernelDir.resolve("build-info"))) {
            info.load(in);
        }
        String out = run.out().replace("\r", "");
        assertThat(out).contains("jhyve-init: userspace is up")
                .contains("\n" + info.getProperty("kernel_release") + "\n")
                .contains("\n2\n")
                .contains("cpu cores\t: 2\n").contains("siblings\t: 2\n") // CPUID topology: one package, two cores
                .contains("vda-sum " + expectedReadSum)
                .contains("vda-write-ok")
                .contains("hello from the host\nvdb-ok")
                .contains("vda-block-size 4096\n").contains("vda-serial jhyve-raw\n").contains("vdb-queues 2\n")
                .contains("vda-discard-ok")
                .contains("jhyve-init: exit status 0");
        Matcher mem = Pattern.compile("Mem:\\s+(\\d+)").matcher(out);
        assertThat(mem.find()).as("free printed its Mem: line").isTrue();
        assertThat(Integer.parseInt(mem.group(1))).as("MiB total as the guest sees -m 256M").isBetween(200, 256);
        assertThat(run.status()).as("poweroff in the guest ends jhyve with status 1").isEqualTo(1);

        byte[] written = DiskImages.read(raw, 4L << 20, 1 << 20);
        byte[] pattern = "jhyve-write\n".repeat((1 << 20) / 12 + 1).substring(0, 1 << 20).getBytes(StandardCharsets.US_ASCII);
        assertThat(Arrays.equals(written, pattern)).as("the guest's dd write reached the image").isTrue();
        assertThat(DiskImages.ext4File(ext4, "/guest.txt")).isEqualTo("from-guest\n");
        assertThat(DiskImages.read(raw, 8L << 20, 1 << 20)).as("blkdiscard punched a hole: zeroes").containsOnly(0);
    }
}
