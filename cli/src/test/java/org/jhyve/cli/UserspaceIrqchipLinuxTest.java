package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * jhyve's guest kernel on jhyve's own interrupt platform ({@code --irqchip userspace}: LAPICs, IOAPIC, PICs, PIT and
 * RTC in Java, no in-kernel irqchip) with two vCPUs: both come up through INIT/SIPI, both take local APIC timer
 * interrupts (LOC in /proc/interrupts rises on each), a 2-second sleep takes two seconds of host time, the RTC gives
 * the guest today's date, and the guest's power-off ends jhyve with status 1. The same boot has a virtio-blk disk, a
 * virtio-net NIC and an AHCI disk and runs with {@code --mmio-cross-check}: every MMIO exit of the whole boot (device
 * BARs, the IOAPIC, the local APIC page) is decoded again by jhyve's own instruction emulator and must match KVM's
 * decoding. The disks' and the network's data paths in this mode are LinuxUserspaceTest's and LinuxNetworkTest's, run
 * in both modes.
 */
@Timeout(600)
class UserspaceIrqchipLinuxTest {
    private static final Pattern LOC = Pattern.compile("LOC:\\s+(\\d+)\\s+(\\d+)\\s+Local timer interrupts");
    private Path kernel;
    private Path initrd;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void guestKernel() {
        GuestImages.assumeKvm();
        String k = System.getenv("JHYVE_GUEST_KERNEL_USERSPACE");
        String i = System.getenv("JHYVE_GUEST_INITRD");
        Assumptions.assumeTrue(k != null && i != null,
                "Linux test skipped: JHYVE_GUEST_KERNEL_USERSPACE/JHYVE_GUEST_INITRD not set (scripts/test sets both)");
        kernel = Path.of(k, "vmlinux");
        initrd = Path.of(i);
    }

    @Test
    void bothCpusTakeTimerInterruptsSleepKeepsHostTimeAndPowerOffEndsWithStatusOne(@TempDir Path dir) throws Exception {
        // The two-second sleep is the shell's own read -t 2 on a FIFO nobody writes: a kernel timer and nothing else.
        // sleep(1) would add a fork and an exec, over a second of emulated kernel code on a host without VMX.
        String script = String.join(";", "nproc", "ls /sys/block /sys/class/net", "grep LOC /proc/interrupts", "sleep 1", "grep LOC /proc/interrupts",
                "mkdir -p /tmp", "mkfifo /tmp/never", "echo sleep-start", "read -t 2 x <> /tmp/never", "echo sleep-end",
                "echo rtc-year $(date -u +%Y)",
                "dmesg | grep -E 'rtc_cmos|setting system clock'");
        String cmdline = "console=ttyS0 panic=-1 quiet " + DiskImages.runParameter(script);
        Path vda = DiskImages.randomMbrDisk(dir.resolve("vda.img"), 16, 5);
        Path sda = DiskImages.randomMbrDisk(dir.resolve("sda.img"), 16, 6);
        // The NIC's backend does not matter to the cross-check (its BAR accesses do): a UDP socket to nobody.
        int[] ports = VirtioNetSocketGuestTest.freeUdpPorts();
        Process jhyve = JhyveProcess.start(dir.resolve("err.txt"), "-A", "-m", "256M", "-c", "2", "--irqchip", "userspace",
                "--mmio-cross-check", "-s", "0:0,hostbridge", "-s", "3,virtio-blk," + vda,
                "-s", "4,virtio-net,socket=udp:127.0.0.1:" + ports[0] + ",peer=127.0.0.1:" + ports[1], "-s", "5,ahci-hd," + sda,
                "-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + kernel + "," + initrd + "," + cmdline);
        StringBuilder console = new StringBuilder();
        Map<String, Long> seenAt = new HashMap<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(jhyve.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                console.append(line).append('\n');
                seenAt.putIfAbsent(line.strip(), System.nanoTime());
            }
        } finally {
            if (!jhyve.waitFor(30, TimeUnit.SECONDS)) jhyve.destroyForcibly();
        }
        Files.writeString(Path.of("target", "linux-irqchip-userspace-console.log"), console);
        String text = console.toString().replace("\r", "");
        String report = text + "\nstderr:\n" + Files.readString(dir.resolve("err.txt"));

        assertThat(text).as(report).contains("jhyve-init: userspace is up").contains("\n2\n").contains("jhyve-init: exit status 0");
        List<long[]> loc = new ArrayList<>();
        Matcher m = LOC.matcher(text);
        while (m.find()) loc.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        assertThat(loc).as("two LOC lines of two CPUs each\n" + report).hasSize(2);
        for (int cpu = 0; cpu < 2; cpu++) {
            assertThat(loc.get(1)[cpu]).as("CPU%d's local timer interrupts rise over a second\n%s", cpu, report).isGreaterThan(loc.get(0)[cpu]);
        }
        assertThat(seenAt).as(report).containsKeys("sleep-start", "sleep-end");
        double slept = (seenAt.get("sleep-end") - seenAt.get("sleep-start")) / 1e9;
        assertThat(slept).as("a 2-second sleep in host seconds\n" + report).isBetween(1.8, 2.2);
        int year = java.time.Year.now(java.time.ZoneOffset.UTC).getValue();
        assertThat(text).as("the RTC tells the guest the host's date\n" + report).containsPattern("rtc-year (" + year + "|" + (year - 1) + ")\n");
        assertThat(text).as("the disks and the NIC were found\n" + report).containsPattern("sda\\s+vda").contains("eth0");
        assertThat(jhyve.exitValue()).as("the guest's power-off ends jhyve with status 1\n" + report).isEqualTo(1);
        String stderr = Files.readString(dir.resolve("err.txt"));
        Matcher check = Pattern.compile("MMIO cross-check: (\\d+) exits compared, (\\d+) mismatches \\((\\d+) jhyve could not decode\\)").matcher(stderr);
        assertThat(check.find()).as("the cross-check's totals\n" + stderr).isTrue();
        assertThat(Long.parseLong(check.group(1))).as("MMIO exits compared in a whole boot").isGreaterThan(1000);
        assertThat(Long.parseLong(check.group(2))).as("mismatches between KVM's decoding and jhyve's\n" + stderr).isZero();
        assertThat(stderr).doesNotContain("cross-check mismatch");
        System.out.printf("userspace irqchip: sleep 2 took %.3f s of host time; LOC %d/%d -> %d/%d; %s%n", slept,
                loc.get(0)[0], loc.get(0)[1], loc.get(1)[0], loc.get(1)[1], check.group());
    }
}
