package org.jhyve.cli.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.devices.uart.SerialBackendSpec;
import org.jhyve.firmware.KexecLoader;
import org.jhyve.kvm.KvmHypervisor;
import org.jhyve.pci.PciAddress;
import org.jhyve.vm.VirtualMachine;
import org.jhyve.vm.VmBuilder;

/**
 * The embedding half of {@code scripts/bench-start}: N VMs in one JVM through the Java API, each the machine
 * {@code jhyve -m 64M -s 0:0,hostbridge -s 31,lpc -l com1,... -f kexec,start-probe.elf,,stay} builds, its
 * COM1 on a stream that notes the time of the first byte and of the guest's ready line. The VMs are
 * started one after the other, each once the previous one is ready, and stay (the guest halts with
 * interrupts on) until every one has been measured. What it costs per VM is read from /proc/self: RSS,
 * private pages and threads before the first VM, with one, and with N. The guest RAM the guests touched is
 * in those figures (the first VM's, found as start-timer.c finds it, is guest1_kib, about 52 KiB); it
 * cannot be told apart for N, since Linux merges neighbouring anonymous mappings into one.
 *
 * <pre>usage: ManyVmsBenchmark PROBE_ELF N</pre>
 * Prints "many-vms vms=N first_us=.. ready_us=.. rss0_kib=.. rss1_kib=.. rssn_kib=.. private0_kib=..
 * private1_kib=.. privaten_kib=.. guest1_kib=.. threads0=.. threads1=.. threadsn=..", first_us
 * and ready_us the medians over the VMs from build() to the byte and the line. Exits 77 without KVM.
 */
public final class ManyVmsBenchmark {
    private static final long MEMORY = 64L << 20;

    private ManyVmsBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: ManyVmsBenchmark PROBE_ELF N");
            System.exit(2);
        }
        Path probe = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        Optional<String> unavailable = KvmHypervisor.unavailableReason();
        if (unavailable.isPresent()) {
            System.err.println("ManyVmsBenchmark: skipped: " + unavailable.get());
            System.exit(ExitLoopBenchmark.SKIPPED);
        }
        List<VirtualMachine> vms = new ArrayList<>();
        long[] first = new long[n];
        long[] ready = new long[n];
        try (KvmHypervisor kvm = KvmHypervisor.open()) {
            // Once without measuring: the classes every VM needs are loaded and the JIT has seen the path.
            runOne(kvm, probe, new long[1], new long[1], 0).close();
            System.gc();
            Memory before = Memory.read();
            Memory one = null;
            for (int i = 0; i < n; i++) {
                vms.add(runOne(kvm, probe, first, ready, i));
                if (i == 0) {
                    Thread.sleep(500);
                    one = Memory.read();
                }
            }
            Thread.sleep(1000);
            Memory all = Memory.read();
            System.out.printf("many-vms vms=%d first_us=%d ready_us=%d rss0_kib=%d rss1_kib=%d rssn_kib=%d private0_kib=%d private1_kib=%d"
                            + " privaten_kib=%d guest1_kib=%d threads0=%d threads1=%d threadsn=%d%n",
                    n, median(first), median(ready), before.rss, one.rss, all.rss, before.privateKib, one.privateKib, all.privateKib,
                    one.guest, before.threads, one.threads, all.threads);
        } finally {
            for (VirtualMachine vm : vms) vm.close();
        }
        System.exit(0);
    }

    /** Builds and starts one stay-mode VM; returns once its guest has printed the ready line. */
    private static VirtualMachine runOne(KvmHypervisor kvm, Path probe, long[] first, long[] ready, int index) throws Exception {
        long start = System.nanoTime();
        CountDownLatch isReady = new CountDownLatch(1);
        OutputStream console = new OutputStream() {
            private final byte[] tail = new byte[32];
            private int seen;

            @Override
            public void write(int b) {
                long now = System.nanoTime();
                if (seen == 0) first[index] = (now - start) / 1000;
                tail[seen++ % tail.length] = (byte) b;
                if (b == '\n' && endsWithReady()) {
                    ready[index] = (now - start) / 1000;
                    isReady.countDown();
                }
            }

            private boolean endsWithReady() {
                byte[] want = "ready\n".getBytes();
                if (seen < want.length) return false;
                for (int k = 0; k < want.length; k++) {
                    if (tail[(seen - want.length + k) % tail.length] != want[k]) return false;
                }
                return true;
            }
        };
        DeviceCatalog catalog = DeviceCatalog.withConsoles(Map.of("com1", new SerialBackendSpec.Streams(InputStream.nullInputStream(), console)));
        CpuTemplate template = CpuTemplate.forHost(kvm.hasHardwareVirtualization());
        VmBuilder b = VmBuilder.on(kvm).memory(MEMORY).vcpus(1).cpuTemplate(template)
                .boot(new KexecLoader(probe, Optional.empty(), "stay"))
                .pci(new PciAddress(0, 0, 0), "hostbridge", catalog.find("hostbridge").orElseThrow(), "")
                .pci(new PciAddress(0, 31, 0), "lpc", catalog.find("lpc").orElseThrow(), "");
        catalog.platformDevices().forEach(b::platform);
        VirtualMachine vm = b.build();
        vm.start();
        if (!isReady.await(30, TimeUnit.SECONDS)) {
            vm.close();
            throw new IllegalStateException("VM " + index + " did not print its ready line in 30 s");
        }
        return vm;
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[(sorted.length - 1) / 2];
    }

    /** This process's memory: RSS, private pages, the guest mappings' RSS (KiB), and its thread count. */
    private record Memory(long rss, long privateKib, long guest, long threads) {
        static Memory read() throws IOException {
            long rss = 0, privateKib = 0, guest = 0, threads = 0;
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) rss = kib(line);
                if (line.startsWith("Threads:")) threads = kib(line);
            }
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
                if (line.startsWith("Private_Clean:") || line.startsWith("Private_Dirty:")) privateKib += kib(line);
            }
            long size = 0;
            boolean anonymous = false;
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
                String[] f = line.split("\\s+");
                if (f.length >= 5 && f[0].matches("[0-9a-f]+-[0-9a-f]+")) {
                    String[] range = f[0].split("-");
                    size = (Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16)) / 1024;
                    anonymous = f.length == 5 || f[5].isEmpty();
                } else if (line.startsWith("Rss:") && anonymous && size >= MEMORY / 1024 && size <= MEMORY / 1024 + 4096) {
                    guest += kib(line);
                }
            }
            return new Memory(rss, privateKib, guest, threads);
        }

        private static long kib(String line) {
            return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
    }
}
