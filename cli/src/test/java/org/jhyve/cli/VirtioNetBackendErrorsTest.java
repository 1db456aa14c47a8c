package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-net backends that cannot be opened, found when the VM is built: one line naming the -s flag, exit
 * status 4, nothing started. (Option errors found while parsing are in CliErrorsTest.)
 */
@Timeout(60)
class VirtioNetBackendErrorsTest {
    @TempDir
    Path dir;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    JhyveProcess runWith(String slot) throws Exception {
        return JhyveProcess.run("-m", "64M", "-s", "0:0,hostbridge", "-s", slot, "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + GuestImages.extract(dir, "hello-long.elf"));
    }

    @Test
    void aSocketThatCannotBindIsOneLineAndStatusFour() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            String slot = "2,virtio-net,socket=udp:127.0.0.1:" + taken.getLocalPort() + ",peer=127.0.0.1:9";
            JhyveProcess run = runWith(slot);
            assertThat(run.status()).isEqualTo(4);
            assertThat(run.err().strip()).isEqualTo("jhyve: -s " + slot + ": virtio-net: cannot bind udp:127.0.0.1:"
                    + taken.getLocalPort() + ": Address already in use");
            assertThat(run.out()).as("the guest never ran").doesNotContain("Hello");
        }
    }

    @Test
    void anInterfaceThatIsNotATapIsOneLineAndStatusFour() throws Exception {
        // "lo" exists and is no tap: TUNSETIFF refuses it (as root; without CAP_NET_ADMIN it is "not permitted").
        JhyveProcess run = runWith("2,virtio-net,tap=lo");
        assertThat(run.status()).isEqualTo(4);
        assertThat(run.err().strip()).startsWith("jhyve: -s 2,virtio-net,tap=lo: virtio-net: attach to tap lo: ").doesNotContain("\n");
    }
}
