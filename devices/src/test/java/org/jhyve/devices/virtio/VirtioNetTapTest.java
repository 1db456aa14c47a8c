package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.virtio.CommonConfig.*;
import static org.jhyve.devices.virtio.VirtioPciLayout.*;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.jhyve.devices.net.LoopbackNetBackend;
import org.jhyve.devices.net.NetBackend;
import org.jhyve.devices.net.TapBackend;
import org.jhyve.devices.net.VirtioNetFeatures;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciFunction;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fault injection: the tap interface of a running virtio-net is deleted ({@code ip link del}) under it. Needs
 * /dev/net/tun, CAP_NET_ADMIN and iproute2 (root in CI); skipped with the reason otherwise. A second virtio-net
 * on a loopback backend in the same machine stands for "the other devices".
 */
@Timeout(60)
class VirtioNetTapTest {
    static final long MSI_ADDRESS = 0xfee0_0000L;
    static final int HDR = 12;
    final TestMachine machine = new TestMachine(8L << 20);
    final List<Throwable> escaped = new CopyOnWriteArrayList<>();
    final List<Nic> nics = new ArrayList<>();
    Thread.UncaughtExceptionHandler previousHandler = Thread.getDefaultUncaughtExceptionHandler();

    VirtioNetTapTest() {
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> escaped.add(e));
    }

    @AfterEach
    void close() {
        try {
            for (Nic n : nics) n.transport.close();
            assertThat(escaped).as("exceptions escaping device threads").isEmpty();
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previousHandler);
        }
    }

    /** A virtio-net in {@code slot} as a driver sets it up: receive, transmit, control queues, MSI-X vectors. */
    final class Nic {
        final String name;
        final int slot;
        final VirtioNet net;
        final VirtioPciTransport transport;
        final long bar0;
        VirtqueueDriver rx, tx, ctrl;

        Nic(String name, int slot, NetBackend backend) {
            this.name = name;
            this.slot = slot;
            this.net = new VirtioNet(name, backend, new byte[] {0x02, 0, 0, 0, 0, (byte) slot});
            this.transport = new VirtioPciTransport(name, net, machine, machine.irq(16 + slot), 16 + slot);
            machine.pci().add(new PciAddress(0, slot, 0), transport);
            machine.pci().configWrite(0, slot, 0, PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
            this.bar0 = transport.barAddress(0);
            nics.add(this);
        }

        long read(long offset, int size) { return machine.mmio().read(bar0 + offset, size); }

        void write(long offset, int size, long value) { machine.mmio().write(bar0 + offset, size, value); }

        int status() { return (int) read(COMMON + DEVICE_STATUS, 1); }

        int link() { return (int) read(DEVICE_CONFIG + 6, 2); }

        /** MSI data of vector {@code v}: 0x40 + slot * 8 + v. */
        int msiData(int v) { return 0x40 + slot * 8 + v; }

        long msis(int v) { return machine.msis().stream().filter(m -> m.data() == msiData(v)).count(); }

        void start(long features) {
            long base = 0x100000L * slot; // each NIC its own megabyte of rings and buffers
            rx = new VirtqueueDriver(machine.memory(), base, 64, base + 0x10000, base + 0x60000);
            tx = new VirtqueueDriver(machine.memory(), base + 0x1000, 64, base + 0x60000, base + 0xe0000);
            ctrl = new VirtqueueDriver(machine.memory(), base + 0x2000, 16, base + 0xe0000, base + 0x100000);
            write(COMMON + DEVICE_STATUS, 1, 0);
            write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
            write(COMMON + DRIVER_FEATURE_SELECT, 4, 0);
            write(COMMON + DRIVER_FEATURE, 4, features & 0xffffffffL);
            write(COMMON + DRIVER_FEATURE_SELECT, 4, 1);
            write(COMMON + DRIVER_FEATURE, 4, features >>> 32);
            write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
            int cap = 0;
            for (int c = machine.pci().configRead(0, slot, 0, 0x34, 1); c != 0; c = machine.pci().configRead(0, slot, 0, c + 1, 1)) {
                if (machine.pci().configRead(0, slot, 0, c, 1) == 0x11) cap = c;
            }
            machine.pci().configWrite(0, slot, 0, cap + 2, 2, 0x8000);
            for (int v = 0; v < 4; v++) {
                long entry = MSIX_TABLE + 16L * v;
                write(entry, 4, MSI_ADDRESS);
                write(entry + 8, 4, msiData(v));
                write(entry + 12, 4, 0);
            }
            write(COMMON + CONFIG_MSIX_VECTOR, 2, 0);
            VirtqueueDriver[] drivers = {rx, tx, ctrl};
            for (int q = 0; q < 3; q++) {
                write(COMMON + QUEUE_SELECT, 2, q);
                write(COMMON + QUEUE_SIZE, 2, drivers[q].size());
                write(COMMON + QUEUE_MSIX_VECTOR, 2, 1 + q);
                write(COMMON + QUEUE_DESC, 8, drivers[q].layout().descriptorTable());
                write(COMMON + QUEUE_DRIVER, 8, drivers[q].layout().availRing());
                write(COMMON + QUEUE_DEVICE, 8, drivers[q].layout().usedRing());
                write(COMMON + QUEUE_ENABLE, 2, 1);
            }
            write(COMMON + DEVICE_STATUS, 1, 0x0f);
            assertThat(status() & VirtioStatus.DEVICE_NEEDS_RESET).isZero();
        }

        void kick(int queue) { write(NOTIFY + 4L * queue, 2, queue); }

        /** Queues a 60-byte frame on the transmit queue and kicks it. */
        void send(int seed) {
            byte[] f = new byte[HDR + 60];
            for (int i = HDR; i < f.length; i++) f[i] = (byte) (i + seed);
            f[HDR] = (byte) 0xff; // broadcast
            tx.addChain(List.of(Buf.in(tx.allocate(f), f.length)));
            kick(1);
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(1);
        }
    }

    static void ip(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("needs iproute2's ip: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s: %s", command, out).isZero();
    }

    static Thread thread(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no thread " + name));
    }

    @Test
    void aTapDeletedUnderARunningVirtioNetTakesItsLinkDownAndNothingElse() throws Exception {
        String ifname = "jhvt" + ProcessHandle.current().pid() % 100_000;
        TapBackend tap;
        try {
            tap = TapBackend.open(ifname);
        } catch (IOException e) {
            Assumptions.abort("needs /dev/net/tun and CAP_NET_ADMIN: " + e.getMessage());
            return;
        }
        Nic onTap = new Nic("vnet-tap", 5, tap);
        LoopbackNetBackend loop = new LoopbackNetBackend(false);
        Nic other = new Nic("vnet-other", 6, loop);
        try {
            ip("link", "set", ifname, "up");
            long features = 1L << VirtioStatus.F_VERSION_1 | 1L << VirtioNetFeatures.STATUS;
            onTap.start(features);
            other.start(features);
            assertThat(onTap.link()).as("link up").isEqualTo(1);
            for (int i = 0; i < 8; i++) onTap.rx.addChain(List.of(Buf.out(onTap.rx.allocate(1526), 1526)));
            onTap.kick(0);
            onTap.send(1);
            await(() -> onTap.net.counters().sent() == 1, "a frame sent into the tap");

            ip("link", "del", ifname);
            await(() -> onTap.link() == 0, "the link going down");
            await(() -> onTap.msis(0) >= 1, "the configuration interrupt");
            // Frames the guest sends now are dropped and counted, and their chains come back.
            for (int i = 0; i < 40; i++) onTap.send(100 + i);
            await(() -> onTap.tx.usedIndex() == 41, "every frame returned");
            assertThat(onTap.net.counters().transmitDropped()).isEqualTo(40);
            // The receive thread waits between tries: it does not spin on the dead tap (it did, on POLLERR).
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long id = thread("vnet-tap-rx0").threadId();
            long cpuBefore = threads.getThreadCpuTime(id);
            Thread.sleep(1_000);
            long cpuMillis = (threads.getThreadCpuTime(id) - cpuBefore) / 1_000_000;
            assertThat(cpuMillis).as("receive thread CPU in a second with its tap gone").isLessThan(100);
            assertThat(onTap.status() & VirtioStatus.DEVICE_NEEDS_RESET).as("no reset asked for: it would not help").isZero();

            // The other NIC goes on.
            long buf = other.rx.allocate(1526);
            other.rx.addChain(List.of(Buf.out(buf, 1526)));
            other.kick(0);
            byte[] f = new byte[60];
            f[0] = 0x42;
            loop.deliver(f);
            await(() -> other.rx.usedIndex() == 1, "a frame on the other NIC");
            assertThat(machine.memory().readByte(buf + HDR)).isEqualTo((byte) 0x42);
            other.send(7);
            await(() -> loop.sent().size() == 1, "a frame sent by the other NIC");

            // The guest may reset and set the NIC up again: it runs, and still says the link is down.
            onTap.start(features);
            assertThat(onTap.link()).isZero();
            onTap.send(200);
            await(() -> onTap.tx.usedIndex() == 1, "a frame after the reset returned");
            assertThat(onTap.net.counters().backendErrors()).isPositive();
        } finally {
            // In case the test failed before deleting it.
            new ProcessBuilder("ip", "link", "del", ifname).redirectErrorStream(true).start().waitFor();
        }
    }
}
