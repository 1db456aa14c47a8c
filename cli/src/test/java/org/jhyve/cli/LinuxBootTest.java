package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * jhyve's guest kernel booted through the command line: the vmlinux through its PVH entry, with ACPI
 * tables and an initramfs. The kernel and initrd come from scripts/build-guest-kernel and
 * scripts/make-initrd (.ci/run builds both and passes them in JHYVE_GUEST_KERNEL and JHYVE_GUEST_INITRD).
 *
 * <p>On hosts whose KVM has no VMX/SVM (this project's machines), user-mode system calls do not reach the
 * guest kernel, so /init dies and the kernel panics; with {@code panic=-1} it reboots through the ACPI
 * reset register and jhyve exits 0. Where userspace runs, /init prints its marker and powers off: 1.
 */
@Timeout(600)
class LinuxBootTest {
    private static Path kernel;
    private static Path initrd;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void guestKernel() {
        GuestImages.assumeKvm();
        String k = System.getenv("JHYVE_GUEST_KERNEL");
        String i = System.getenv("JHYVE_GUEST_INITRD");
        Assumptions.assumeTrue(k != null && i != null,
                "Linux boot tests skipped: JHYVE_GUEST_KERNEL/JHYVE_GUEST_INITRD not set (scripts/build-guest-kernel and scripts/make-initrd build them; .ci/run sets both)");
        kernel = Path.of(k, "vmlinux");
        initrd = Path.of(i);
        assertThat(kernel).isRegularFile();
        assertThat(initrd).isRegularFile();
    }

    @Test
    void vmlinuxBootsThroughPvhWithAcpiAndTwoVcpusToItsInit(@TempDir Path dir) throws Exception {
        // No CPU workarounds here: on hosts without VMX/SVM jhyve's CPU template adds them itself.
        String cmdline = "console=ttyS0 panic=-1";
        Path disk = DiskImages.randomMbrDisk(dir.resolve("disk.img"), 64, 7);
        long start = System.nanoTime();
        JhyveProcess run = JhyveProcess.run("-A", "-m", "256M", "-c", "2", "-s", "0:0,hostbridge", "-s", "4,virtio-blk," + disk,
                "-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + kernel + "," + initrd + "," + cmdline);
        double seconds = (System.nanoTime() - start) / 1e9;
        Files.writeString(Path.of("target", "linux-boot-console.log"), run.out());
        assertThat(run.out())
                .contains("Linux version 6.1")
                .containsPattern(HostCpuFacts.hardwareVirtualization() ? "Command line: console=ttyS0 panic=-1"
                        : "Command line: console=ttyS0 panic=-1 noxsave nofsgsbase clearcpuid=smap,")
                .contains("ACPI: RSDP 0x00000000000E0000")
                .contains("ACPI: Using ACPI (MADT) for SMP configuration information")
                .contains("smp: Brought up 1 node, 2 CPUs")
                .contains("serial8250: ttyS0 at I/O 0x3f8 (irq = 4")
                // The virtio-blk disk: found below the ACPI root bridge, probed with its size, partitions read.
                .contains("ACPI: PCI Root Bridge [PCI0] (domain 0000 [bus 00-ff])")
                .contains("pci 0000:00:04.0: [1af4:1042] type 00 class 0x018000")
                .contains("virtio_blk virtio0: [vda] 131072 512-byte logical blocks (67.1 MB/64.0 MiB)")
                .contains(" vda: vda1")
                .contains("Unpacking initramfs")
                .contains("Run /init as init process");
        assertThat(run.err()).as("no emulation failure or other jhyve error").doesNotContain("jhyve:");
        if (!HostCpuFacts.hardwareVirtualization()) assertThat(run.err()).contains("CPU template 'pvm' adds kernel parameters");
        assertEndsAsThisHostAllows(run);
        System.out.printf("Linux boot to init and exit: %.1f s%n", seconds);
    }

    /**
     * The bzImage, with no initramfs: its root file system is an ext4 image made on the host, on virtio-blk,
     * whose /sbin/init is a busybox script.
     */
    @Test
    void bzImageBootsThroughItsSixtyFourBitEntryAndMountsAnExt4RootFromVirtioBlk(@TempDir Path dir) throws Exception {
        Path bzImage = kernel.resolveSibling("bzImage");
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("sbin"));
        Files.createDirectories(root.resolve("bin"));
        Path busybox = Path.of(System.getenv().getOrDefault("JHYVE_BUSYBOX", "/bin/busybox"));
        Files.copy(busybox, root.resolve("bin/busybox"));
        Path init = Files.writeString(root.resolve("sbin/init"),
                "#!/bin/busybox sh\n/bin/busybox echo 'jhyve-init: userspace is up'\n/bin/busybox poweroff -f\n");
        init.toFile().setExecutable(true);
        Path disk = DiskImages.ext4(dir.resolve("root.img"), 32, root);
        JhyveProcess run = JhyveProcess.run("-A", "-m", "256M", "-s", "0:0,hostbridge", "-s", "3,virtio-blk," + disk,
                "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + bzImage + ",,console=ttyS0 earlyprintk=serial panic=-1 root=/dev/vda rw");
        Files.writeString(Path.of("target", "linux-bzimage-console.log"), run.out());
        assertThat(run.out())
                .contains("Decompressing Linux... Parsing ELF... done.")
                .contains("BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable")
                .contains("virtio_blk virtio0: [vda] 65536 512-byte logical blocks")
                .containsPattern("EXT4-fs \\(vda\\): mounted filesystem")
                .contains("VFS: Mounted root (ext4 filesystem) on device 254:0.")
                .contains("Run /sbin/init as init process");
        assertThat(run.err()).doesNotContain("jhyve:");
        assertEndsAsThisHostAllows(run);
    }

    /** Where userspace runs, /init powers off (1); where it cannot (KVM without VMX/SVM) init dies and panic=-1 resets (0). */
    private static void assertEndsAsThisHostAllows(JhyveProcess run) {
        if (run.out().contains("jhyve-init: userspace is up")) {
            assertThat(run.status()).as("init powered off").isEqualTo(1);
        } else {
            assertThat(run.out()).contains("Kernel panic - not syncing: Attempted to kill init!");
            assertThat(run.status()).as("panic=-1 reboots: reset").isZero();
        }
    }
}
