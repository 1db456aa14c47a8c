package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-net over a tap, end to end, in a network namespace the test makes: the guest kernel configures eth0
 * itself (`ip=`), answers the host's pings, sends its log to the host over netconsole (UDP), and busybox moves
 * 4 MiB each way over TCP with checksums compared on both sides.
 */
@Timeout(900)
class LinuxNetworkTest {
    private static Path kernel;
    private static Path initrd;
    static final int BYTES = 4 << 20, PINGS = 2000;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void guest() {
        GuestImages.assumeKvm();
        String why = NetNamespace.unavailableReason();
        Assumptions.assumeTrue(why == null, () -> "network test skipped: " + why);
        String k = System.getenv("JHYVE_GUEST_KERNEL_USERSPACE");
        String i = System.getenv("JHYVE_GUEST_INITRD");
        Assumptions.assumeTrue(k != null && i != null,
                "network test skipped: JHYVE_GUEST_KERNEL_USERSPACE/JHYVE_GUEST_INITRD not set (scripts/test sets them)");
        kernel = Path.of(k, "vmlinux");
        initrd = Path.of(i);
    }

    /** With KVM's in-kernel irqchip (the default) and with jhyve's own interrupt platform ({@code --irqchip userspace}). */
    @ParameterizedTest(name = "--irqchip {0}")
    @ValueSource(strings = {"kernel", "userspace"})
    void theGuestConfiguresItselfAnswersPingsLogsOverNetconsoleAndMovesDataBothWays(String irqchip, @TempDir Path dir) throws Exception {
        String name = "jhyve-t" + ProcessHandle.current().pid();
        try (NetNamespace ns = NetNamespace.create(name)) {
            ns.addTap("tap0", "10.99.0.1/24", true);
            byte[] toGuest = new byte[BYTES];
            new Random(99).nextBytes(toGuest);

            // Host side, inside the namespace: the netconsole listener and the server the guest sends to.
            StringBuilder netconsole = new StringBuilder();
            DatagramSocket udp = ns.inside(() -> new DatagramSocket(new InetSocketAddress("10.99.0.1", 6666))).get(10, TimeUnit.SECONDS);
            Thread.ofPlatform().daemon().start(() -> {
                byte[] buf = new byte[2048];
                while (!udp.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        udp.receive(p);
                        synchronized (netconsole) {
                            netconsole.append(new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
                        }
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            ServerSocket server = ns.inside(() -> new ServerSocket(7001, 1, InetAddress.getByName("10.99.0.1"))).get(10, TimeUnit.SECONDS);
            CompletableFuture<byte[]> fromGuest = CompletableFuture.supplyAsync(() -> {
                try (server; Socket s = server.accept(); InputStream in = s.getInputStream()) {
                    return in.readNBytes(BYTES);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });

            String script = String.join(";", "echo queues $(ls /sys/class/net/eth0/queues)", "echo net-ready", "mkdir -p /tmp",
                    "nc -l -p 7000 > /tmp/in", "echo in-sum $(sha256sum < /tmp/in)",
                    // Made in user space (seq): /dev/urandom's ChaCha runs in the guest kernel, emulated here.
                    "seq 1 1000000 | head -c " + BYTES + " > /tmp/out", "echo out-sum $(sha256sum < /tmp/out)",
                    "nc 10.99.0.1 7001 < /tmp/out", "echo net-done");
            String cmdline = "console=ttyS0 panic=-1 ip=10.99.0.2::10.99.0.1:255.255.255.0::eth0:off "
                    + "netconsole=@10.99.0.2/eth0,6666@10.99.0.1/ " + DiskImages.runParameter(script);
            Process jhyve = JhyveProcess.startWithPrefix(ns.prefix(), dir.resolve("err.txt"), "-A", "-m", "256M", "-c", "2", "--irqchip", irqchip,
                    "-s", "0:0,hostbridge", "-s", "2:0,virtio-net,tap0,mac=52:54:00:12:34:56,queues=2", "-s", "31,lpc", "-l", "com1,stdio",
                    "-f", "kexec," + kernel + "," + initrd + "," + cmdline);
            StringBuilder console = new StringBuilder();
            String ping = null;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(jhyve.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    console.append(line).append('\n');
                    if (line.strip().equals("net-ready")) {
                        // The guest kernel answers these itself; -A sends the next as soon as a reply is in.
                        ping = ns.exec("busybox", "ping", "-A", "-c", String.valueOf(PINGS), "-q", "10.99.0.2");
                        ns.inside(() -> {
                            try (Socket s = new Socket("10.99.0.2", 7000); OutputStream o = s.getOutputStream()) {
                                o.write(toGuest);
                            }
                            return null;
                        }).get(300, TimeUnit.SECONDS);
                    }
                }
            } finally {
                jhyve.destroyForcibly();
            }
            assertThat(jhyve.waitFor(30, TimeUnit.SECONDS)).isTrue();
            Files.writeString(Path.of("target", "linux-network-" + irqchip + "-console.log"), console);
            udp.close();
            String text = console.toString().replace("\r", "");
            assertThat(text).contains("IP-Config: Complete:")
                    .contains("device=eth0, hwaddr=52:54:00:12:34:56, ipaddr=10.99.0.2, mask=255.255.255.0, gw=10.99.0.1")
                    .contains("in-sum " + DiskImages.sha256(toGuest))
                    // two vCPUs, two queue pairs: Linux uses both (VQ_PAIRS_SET), each on its own queue of the tap
                    .contains("queues rx-0 rx-1 tx-0 tx-1")
                    .doesNotContain("Fail to set num of queue pairs")
                    .contains("net-done");
            // busybox's adaptive ping sends one more than -c asks before it stops counting
            assertThat(ping).as("every ping answered").containsPattern("\\d+ packets transmitted, " + PINGS + " packets received, 0% packet loss");
            java.util.regex.Matcher sum = java.util.regex.Pattern.compile("out-sum ([0-9a-f]{64})").matcher(text);
            assertThat(sum.find()).isTrue();
            assertThat(DiskImages.sha256(fromGuest.get(60, TimeUnit.SECONDS))).as("what the guest sent arrived intact").isEqualTo(sum.group(1));
            // netconsole: the kernel's log lines after it started, each as the serial console shows it.
            String logged;
            synchronized (netconsole) {
                logged = netconsole.toString();
            }
            assertThat(logged).contains("IP-Config: Complete:").contains("Run /init as init process");
            for (String l : logged.split("\n")) {
                if (!l.isBlank()) assertThat(text).as("netconsole line intact").contains(l.strip());
            }
            assertThat(jhyve.exitValue()).as("powered off").isEqualTo(1);
        }
    }
}
