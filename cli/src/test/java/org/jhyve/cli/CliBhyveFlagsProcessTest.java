package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bhyve's {@code -S} (guest RAM wired with mlock), its vmname (the process name) and {@code -G} without {@code w},
 * on a real jhyve process: a guest held by {@code -G w} (it waits for gdb) stays up while the test reads /proc.
 */
class CliBhyveFlagsProcessTest {
    @TempDir Path dir;

    private Path guest() {
        GuestImages.assumeKvm();
        return GuestImages.extract(dir, "hello-long.elf");
    }

    @Test
    void wiredRamIsLockedAndTheVmNameIsTheProcessName() throws Exception {
        Path err = dir.resolve("stderr");
        Process p = JhyveProcess.start(err, "-m", "32M", "-S", "-G", "w0", "-f", "kexec," + guest(), "wired-vm-with-a-long-name");
        try {
            for (int i = 0; i < 300 && !Files.readString(err).contains("waiting for gdb"); i++) Thread.sleep(100);
            assertThat(Files.readString(err)).startsWith("jhyve wired-vm-with-a-long-name: waiting for gdb on 127.0.0.1:");
            String status = Files.readString(Path.of("/proc", Long.toString(p.pid()), "status"));
            assertThat(status).containsPattern("VmLck:\\s+3[0-9]{4} kB"); // the 32 MiB of guest RAM, and the few pages the JVM locked itself
            // ps -o comm: the kernel's 15-byte name of the main thread
            assertThat(Files.readString(Path.of("/proc", Long.toString(p.pid()), "comm")).strip()).isEqualTo("wired-vm-with-a");
        } finally {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void wiringPastTheLockLimitIsOneLineAndStatusFour() throws Exception {
        Path kernel = guest();
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")) && Files.isExecutable(Path.of("/usr/bin/prlimit")),
                "setpriv and prlimit (util-linux) drop CAP_IPC_LOCK and lower RLIMIT_MEMLOCK");
        Path err = dir.resolve("stderr");
        // Without CAP_IPC_LOCK (root has it) and with 1 MiB of RLIMIT_MEMLOCK, 32 MiB cannot be wired.
        Process p = JhyveProcess.startWithPrefix(List.of("prlimit", "--memlock=1048576", "setpriv", "--bounding-set=-ipc_lock",
                "--inh-caps=-ipc_lock", "--"), err, "-m", "32M", "-S", "-f", "kexec," + kernel);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(4);
        assertThat(Files.readString(err, StandardCharsets.UTF_8)).isEqualTo("jhyve: cannot wire 32 MiB of guest RAM (mlock: ENOMEM, Cannot allocate memory): "
                + "RLIMIT_MEMLOCK is too low (ulimit -l, or LimitMEMLOCK= in a systemd unit) or CAP_IPC_LOCK is missing\n");
    }

    @Test
    void withoutWTheGuestRunsBeforeAnyGdb() throws Exception {
        Path err = dir.resolve("stderr");
        // hello-long prints and powers off: status 1 with no gdb ever attached.
        Process p = JhyveProcess.start(err, "-m", "32M", "-G", "0", "-f", "kexec," + guest());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(err)).isEqualTo(1);
        assertThat(Files.readString(err)).containsPattern("^jhyve: gdb stub on 127\\.0\\.0\\.1:\\d+ \\(target remote :\\d+\\); the guest runs; gdb stops it when it attaches\n");
    }

    @Test
    void printMacSaysTheMacTheGuestReadsFromTheDevice() throws Exception {
        GuestImages.assumeKvm();
        Path program = GuestImages.extract(dir, "virtio-net.elf"); // prints "mac=..." from the device's config space
        int port;
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        // No mac=: derived from -U and the slot, the seed VirtioNetFactory uses and -M repeats.
        List<String> vm = List.of("-m", "64M", "-U", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "-s", "0:0,hostbridge",
                "-s", "2,virtio-net,socket=udp:127.0.0.1:" + port + ",peer=127.0.0.1:9", "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + program);
        JhyveProcess printed = JhyveProcess.run(java.util.stream.Stream.concat(java.util.stream.Stream.of("-M"), vm.stream()).toArray(String[]::new));
        assertThat(printed.status()).as(printed.err()).isZero();
        assertThat(printed.out()).matches("MAC: ([0-9a-f]{2}:){5}[0-9a-f]{2}\n");
        String mac = printed.out().strip().substring("MAC: ".length());
        Process p = JhyveProcess.start(dir.resolve("guest.err"), vm.toArray(String[]::new));
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("mac=")) { /* the guest's first lines */ }
            assertThat(line).as(Files.readString(dir.resolve("guest.err"))).isEqualTo("mac=" + mac); // readLine ends at the guest's \r\n
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
