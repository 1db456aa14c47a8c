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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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

    /** With KVM's in-kernel irqchip (the default) and with jhyve's own interrupt platform ({@code --irqchip userspace}). */
    @ParameterizedTest(name = "--irqchip {0}")
    @ValueSource(strings = {"kernel", "userspace"})
    void busyboxRunsCommandsAndUsesVirtioAndAhciDisksThenPowersOff(String irqchip, @TempDir Path dir) throws Exception {
        Path raw = DiskImages.randomMbrDisk(dir.resolve("raw.img"), 16, 42);
        Path content = Files.createDirectories(dir.resolve("content"));
        Files.writeString(content.resolve("hello.txt"), "hello from the host\n");
        Path ext4 = DiskImages.ext4(dir.resolve("ext4.img"), 16, content);
        String expectedReadSum = DiskImages.sha256(DiskImages.read(raw, 2L << 20, 1 << 20));
        // AHCI: a SATA disk and a CD-ROM with an ISO made on the host.
        Path sata = DiskImages.randomMbrDisk(dir.resolve("sata.img"), 16, 43);
        String expectedSataSum = DiskImages.sha256(DiskImages.read(sata, 2L << 20, 1 << 20));
        Path isoContent = Files.createDirectories(dir.resolve("iso"));
        byte[] isoFile = new byte[3 << 20];
        new java.util.Random(44).nextBytes(isoFile);
        Files.write(isoContent.resolve("data.bin"), isoFile);
        Path iso = DiskImages.iso(dir.resolve("cd.iso"), isoContent);

        String script = String.join(";",
                "uname -r", "nproc", "free -m | grep Mem:", "grep -m1 'cpu cores' /proc/cpuinfo", "grep -m1 siblings /proc/cpuinfo",
                "echo vda-sum $(dd if=/dev/vda bs=65536 skip=32 count=16 2>/dev/null | sha256sum)",
                "yes jhyve-write | head -c 1048576 | dd of=/dev/vda bs=65536 seek=64 conv=fsync 2>/dev/null && echo vda-write-ok",
                "mount -t ext4 /dev/vdb /mnt && cat /mnt/hello.txt && echo from-guest > /mnt/guest.txt && umount /mnt && echo vdb-ok",
                "echo vda-block-size $(cat /sys/block/vda/queue/logical_block_size)",
                "echo vda-serial $(cat /sys/block/vda/serial)",
                "echo vdb-queues $(ls /sys/block/vdb/mq | wc -l)",
                "blkdiscard -o 8388608 -l 1048576 /dev/vda && echo vda-discard-ok",
                "echo sda-sum $(dd if=/dev/sda bs=65536 skip=32 count=16 2>/dev/null | sha256sum)",
                "yes jhyve-ahci | head -c 1048576 | dd of=/dev/sda bs=65536 seek=64 conv=fsync 2>/dev/null && echo sda-write-ok",
                "blkdiscard -o 8388608 -l 1048576 /dev/sda && echo sda-discard-ok",
                "echo sda-model $(cat /sys/block/sda/device/model)",
                "dmesg | grep -E 'SATA link up|\\[sda\\] [0-9]+ 512-byte|sda: sda|\\[sr0\\]'",
                "mkdir -p /cdrom && mount -t iso9660 -o ro /dev/sr0 /cdrom && echo sr0-sum $(sha256sum < /cdrom/data.bin) && umount /cdrom");
        String cmdline = "console=ttyS0 panic=-1 quiet " + DiskImages.runParameter(script);
        JhyveProcess run = JhyveProcess.run("-A", "-m", "256M", "-c", "2", "--irqchip", irqchip, "-s", "0:0,hostbridge",
                "-s", "4,virtio-blk," + raw + ",serial=jhyve-raw,sectorsize=4096", "-s", "5,virtio-blk," + ext4 + ",num-queues=2",
                "-s", "6,ahci-hd," + sata, "-s", "7,ahci-cd," + iso, "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + kernelDir.resolve("vmlinux") + "," + initrd + "," + cmdline);
        Files.writeString(Path.of("target", "linux-userspace-" + irqchip + "-console.log"), run.out());

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
                // AHCI probed by Linux's own ahci driver (from dmesg: quiet keeps them off the console): the
                // disk with its size and partition table, the CD-ROM
                .containsPattern("ata\\d+: SATA link up 6.0 Gbps")
                .containsPattern("sd \\d+:0:0:0: \\[sda\\] 32768 512-byte logical blocks")
                .contains(" sda: sda1")
                .containsPattern("sr \\d+:0:0:0: \\[sr0\\]")
                .contains("sda-sum " + expectedSataSum).contains("sda-write-ok").contains("sda-discard-ok")
                .contains("sda-model jhyve HARDDISK")
                .contains("sr0-sum " + DiskImages.sha256(isoFile))
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
        byte[] sataWritten = DiskImages.read(sata, 4L << 20, 1 << 20);
        byte[] sataPattern = "jhyve-ahci\n".repeat((1 << 20) / 11 + 1).substring(0, 1 << 20).getBytes(StandardCharsets.US_ASCII);
        assertThat(Arrays.equals(sataWritten, sataPattern)).as("the guest's dd write through AHCI reached the image").isTrue();
        assertThat(DiskImages.read(sata, 8L << 20, 1 << 20)).as("TRIM through AHCI punched a hole: zeroes").containsOnly(0);
    }

    /**
     * An ISO made on the host as the root filesystem on ahci-cd: no initramfs; the kernel mounts /dev/sr0
     * (iso9660) and runs jhyve's /init from it, which runs commands on the read-only root and powers off.
     */
    @Test
    void anIsoOnAhciCdIsTheRootFilesystem(@TempDir Path dir) throws Exception {
        Path tree = Files.createDirectories(dir.resolve("root"));
        for (String d : new String[] {"bin", "proc", "sys", "dev", "tmp", "mnt"}) Files.createDirectories(tree.resolve(d));
        Path busybox = Path.of(System.getenv().getOrDefault("JHYVE_BUSYBOX", "/bin/busybox"));
        assertThat(busybox).as("a static busybox (Debian's busybox-static; scripts/test installs it)").isRegularFile();
        Files.copy(busybox, tree.resolve("bin/busybox"));
        for (String applet : new String[] {"sh", "mount", "cat", "printf", "sync", "poweroff", "setsid", "cttyhack", "uname", "sha256sum", "grep"}) {
            Files.createSymbolicLink(tree.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.copy(Path.of("..", "firmware", "guest-kernel", "init"), tree.resolve("init"));
        for (Path program : new Path[] {tree.resolve("init"), tree.resolve("bin/busybox")}) {
            Files.setPosixFilePermissions(program, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        byte[] data = new byte[1 << 20];
        new java.util.Random(45).nextBytes(data);
        Files.write(tree.resolve("data.bin"), data);
        Path iso = DiskImages.iso(dir.resolve("root.iso"), tree);

        String script = String.join(";", "grep ' / ' /proc/mounts", "echo data-sum $(sha256sum < /data.bin)");
        String cmdline = "console=ttyS0 panic=-1 root=/dev/sr0 rootfstype=iso9660 ro init=/init " + DiskImages.runParameter(script);
        JhyveProcess run = JhyveProcess.run("-A", "-m", "256M", "-c", "1", "-s", "0:0,hostbridge", "-s", "3,ahci-cd," + iso,
                "-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + kernelDir.resolve("vmlinux") + ",," + cmdline);
        Files.writeString(Path.of("target", "linux-iso-root-console.log"), run.out());
        String out = run.out().replace("\r", "");
        assertThat(out).contains("ahci 0000:00:03.0: AHCI 0001.0300 32 slots 1 ports 6 Gbps")
                .containsPattern("scsi 0:0:0:0: CD-ROM +jhyve +CD-ROM")
                .containsPattern("sr 0:0:0:0: \\[sr0\\]")
                .contains("VFS: Mounted root (iso9660 filesystem) readonly")
                .contains("jhyve-init: userspace is up")
                .contains("/dev/root / iso9660 ro")
                .contains("data-sum " + DiskImages.sha256(data))
                .contains("jhyve-init: exit status 0");
        assertThat(run.status()).as("powered off").isEqualTo(1);
    }
}
