package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -s N,virtio-net} alone, as a user runs it: passt is started for the NIC, refused in one line when it is
 * missing or a forwarded port is taken, and does not outlive a jhyve killed with SIGKILL.
 */
@Timeout(120)
class UserNetworkProcessTest {
    @TempDir
    Path dir;
    Path forever;

    @BeforeEach
    void guest() throws Exception {
        GuestImages.assumeKvm();
        // mov dx,0x510; 1: out dx,al; jmp 1b: busy forever unless stopped.
        forever = GuestImages.bootSector(dir, "forever.bin", 0xba, 0x10, 0x05, 0xee, 0xeb, 0xfd);
    }

    private static void assumePasst() {
        assumeTrue(PasstProcesses.installed(), "passt is not installed (Debian package passt)");
    }

    @Test
    void passtDoesNotOutliveAJhyveKilledWithSigkill() throws Exception {
        assumePasst();
        Process p = JhyveProcess.start(dir.resolve("err"), "-s", "0:0,hostbridge", "-s", "2,virtio-net", "-f", "kexec," + forever);
        List<Long> passt = List.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (passt.isEmpty() && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            passt = PasstProcesses.childrenOf(p.pid());
        }
        assertThat(passt).as("jhyve started one passt").hasSize(1);
        p.destroyForcibly(); // SIGKILL: jhyve cleans nothing up; the kernel closes its end of passt's socket
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        long gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (PasstProcesses.running(passt.get(0)) && System.nanoTime() < gone) Thread.sleep(50);
        assertThat(PasstProcesses.running(passt.get(0))).as("passt ended after jhyve was killed").isFalse();
    }

    @Test
    void withoutPasstInstalledItIsOneLineNamingThePackageAndStatusFour() throws Exception {
        Path err = dir.resolve("err");
        Process p = JhyveProcess.startWithPrefix(List.of("env", "PATH=/nonexistent"), err,
                "-s", "0:0,hostbridge", "-s", "2:0,virtio-net", "-f", "kexec," + forever);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(4);
        assertThat(Files.readString(err)).startsWith("jhyve").contains("-s 2:0,virtio-net").contains("apt install passt").hasLineCount(1);
    }

    @Test
    void aForwardedPortInUseIsOneLineAndStatusFour() throws Exception {
        assumePasst();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            String net = "2,virtio-net,hostfwd=tcp::" + port + "-:9000";
            JhyveProcess run = JhyveProcess.run("-s", "0:0,hostbridge", "-s", net, "-f", "kexec," + forever);
            assertThat(run.status()).isEqualTo(4);
            assertThat(run.err()).contains("-s " + net).contains("TCP port 127.0.0.1:" + port + " is in use").hasLineCount(1);
        }
    }

    @Test
    void twoVmsWithUserModeNetworkingRunSideBySide() throws Exception {
        assumePasst();
        Process a = JhyveProcess.start(dir.resolve("a.err"), "-s", "0:0,hostbridge", "-s", "2,virtio-net", "-f", "kexec," + forever);
        Process b = JhyveProcess.start(dir.resolve("b.err"), "-s", "0:0,hostbridge", "-s", "2,virtio-net", "-f", "kexec," + forever);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((PasstProcesses.childrenOf(a.pid()).isEmpty() || PasstProcesses.childrenOf(b.pid()).isEmpty()) && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(PasstProcesses.childrenOf(a.pid())).hasSize(1);
            assertThat(PasstProcesses.childrenOf(b.pid())).hasSize(1);
            assertThat(a.isAlive() && b.isAlive()).isTrue();
        } finally {
            a.destroy();
            b.destroy();
            a.waitFor(10, TimeUnit.SECONDS);
            b.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(Files.readString(dir.resolve("a.err"))).isEmpty();
        assertThat(Files.readString(dir.resolve("b.err"))).isEmpty();
    }
}
