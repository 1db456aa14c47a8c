package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.devices.uart.SerialBackendSpec;
import org.jhyve.devices.uart.SerialConsole;
import org.jhyve.devices.uart.SerialInput;
import org.jhyve.firmware.KexecLoader;
import org.jhyve.kvm.KvmHypervisor;
import org.jhyve.pci.PciAddress;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VirtualMachine;
import org.jhyve.vm.VmBuilder;
import org.jhyve.vm.VmOutcome;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The same guests through the Java API, and the lifecycle a program embedding jhyve relies on. */
@Timeout(120)
class JavaApiTest {
    @TempDir
    static Path dir;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    private static VmBuilder machine(KvmHypervisor kvm, Path program, Map<String, String> lpc) {
        return machine(kvm, program, DeviceCatalog.standard(lpc));
    }

    private static VmBuilder machine(KvmHypervisor kvm, Path program, DeviceCatalog catalog) {
        VmBuilder b = VmBuilder.on(kvm).memory(64L << 20).vcpus(1)
                .boot(new KexecLoader(program, Optional.empty(), ""))
                .pci(new PciAddress(0, 0, 0), "hostbridge", catalog.find("hostbridge").orElseThrow(), "")
                .pci(new PciAddress(0, 31, 0), "lpc", catalog.find("lpc").orElseThrow(), "");
        catalog.platformDevices().forEach(b::platform);
        return b;
    }

    @Test
    void longModeProgramPrintsThroughComOneAndPowersOff() throws Exception {
        Path program = GuestImages.extract(dir, "hello-long.elf");
        Path console = dir.resolve("api-console.log");
        try (KvmHypervisor kvm = KvmHypervisor.open();
             VirtualMachine vm = machine(kvm, program, Map.of("com1", console.toString())).build()) {
            vm.start();
            VmOutcome outcome = vm.await();
            assertThat(outcome.status()).isEqualTo(ExitStatus.POWER_OFF);
            assertThat(outcome.reason()).contains("0x404");
        }
        assertThat(Files.readString(console))
                .isEqualTo("Hello from 64-bit long mode\r\nhostbridge vendor=1275 device=1275\r\nlong mode: EFER.LMA=1\r\n");
    }

    @Test
    void devicesFromAConfigurationTreeOrTypedRecordsWithoutOptionStrings() throws Exception {
        // A program describes its devices as bhyve's keys (or as the records the devices read), never as -s strings.
        Path program = GuestImages.extract(dir, "hello-long.elf");
        Path console = dir.resolve("tree-console.log");
        Path disk = Files.write(dir.resolve("tree-disk.img"), new byte[1 << 20]);
        org.jhyve.config.ConfigTree tree = org.jhyve.config.ConfigTree.of(Map.of(
                "pci.0.0.0.device", "hostbridge", "pci.0.31.0.device", "lpc",
                "pci.0.4.0.device", "virtio-blk", "pci.0.4.0.path", disk.toString(), "pci.0.4.0.ro", "true"), "JavaApiTest");
        DeviceCatalog catalog = DeviceCatalog.standard(Map.of("com1", console.toString()));
        var typed = new org.jhyve.devices.virtio.VirtioBlockOptions(disk.toString(), true, false, false, 512, 512, Optional.of("typed"), 1);
        try (KvmHypervisor kvm = KvmHypervisor.open()) {
            VmBuilder b = VmBuilder.on(kvm).memory(64L << 20).vcpus(1).boot(new KexecLoader(program, Optional.empty(), ""));
            for (String node : List.of("pci.0.0.0", "pci.0.31.0", "pci.0.4.0")) {
                String[] bsf = node.split("\\.");
                String emulation = tree.node(node).get("device").orElseThrow();
                b.pci(new PciAddress(Integer.parseInt(bsf[1]), Integer.parseInt(bsf[2]), Integer.parseInt(bsf[3])), emulation,
                        catalog.lookup(emulation).orElseThrow().factoryFor(tree.node(node)), "");
            }
            b.pci(new PciAddress(0, 5, 0), "virtio-blk", (machine, address, unused) -> org.jhyve.devices.virtio.VirtioBlockFactory.create(machine, address, typed), "");
            catalog.platformDevices().forEach(b::platform);
            try (VirtualMachine vm = b.build()) {
                vm.start();
                assertThat(vm.await().status()).isEqualTo(ExitStatus.POWER_OFF);
            }
        }
        assertThat(tree.unread()).as("every key was read by its device").isEmpty();
        assertThat(Files.readString(console)).startsWith("Hello from 64-bit long mode\r\nhostbridge vendor=1275 device=1275\r\n");
    }

    @Test
    void aJfrRecordingSeesThePortIoExitsOfTheProgram() throws Exception {
        Path program = GuestImages.extract(dir, "hello-long.elf");
        Path recording = dir.resolve("hello.jfr");
        try (jdk.jfr.Recording r = new jdk.jfr.Recording()) {
            r.enable("jhyve.VmExit").withoutThreshold();
            r.start();
            try (KvmHypervisor kvm = KvmHypervisor.open();
                 VirtualMachine vm = machine(kvm, program, Map.of("com1", dir.resolve("jfr-console.log").toString())).build()) {
                vm.start();
                assertThat(vm.await().status()).isEqualTo(ExitStatus.POWER_OFF);
            }
            r.stop();
            r.dump(recording);
        }
        var exits = jdk.jfr.consumer.RecordingFile.readAllEvents(recording).stream()
                .filter(e -> e.getEventType().getName().equals("jhyve.VmExit")).toList();
        var thrWrites = exits.stream()
                .filter(e -> e.getString("reason").equals("pio") && e.getLong("address") == 0x3f8 && e.getBoolean("write")).toList();
        // "Hello from 64-bit long mode\r\n...": one exit per character, and one for the baud-rate divisor.
        assertThat(thrWrites).hasSize(Files.readString(dir.resolve("jfr-console.log")).length() + 1)
                .allSatisfy(e -> {
                    assertThat(e.getInt("vcpu")).isZero();
                    assertThat(e.getInt("size")).isEqualTo(1);
                    assertThat(e.getDuration()).isLessThan(Duration.ofSeconds(1));
                });
        assertThat(exits).anySatisfy(e -> {
            assertThat(e.getString("reason")).isEqualTo("pio");
            assertThat(e.getLong("address")).isEqualTo(0x404);
        });
    }

    @Test
    void tracingThroughTheBuilderWritesTheFileWhenTheVmCloses() throws Exception {
        Path program = GuestImages.extract(dir, "hello-long.elf");
        Path trace = dir.resolve("api.trace");
        try (KvmHypervisor kvm = KvmHypervisor.open();
             VirtualMachine vm = machine(kvm, program, Map.of("com1", dir.resolve("trace-console.log").toString()))
                     .trace(new org.jhyve.trace.TraceConfig(trace, org.jhyve.trace.TraceFilter.parse("exit;range=0x404"))).build()) {
            vm.start();
            assertThat(vm.await().status()).isEqualTo(ExitStatus.POWER_OFF);
        }
        assertThat(Files.readAllLines(trace)).singleElement().asString().matches(" +0\\.\\d{9} vcpu0 rip=\\p{XDigit}{16} exit  pio 0x404");
    }

    @Test
    void pauseResumeAndStopABusyGuestThenReleaseEverything() throws Exception {
        Path loop = GuestImages.extract(dir, "exit-loop.bin");
        long threadsBefore = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("jhyve-")).count();
        long fdsBefore = openFds();
        try (KvmHypervisor kvm = KvmHypervisor.open();
             VirtualMachine vm = machine(kvm, loop, Map.of()).vcpus(2).build()) {
            vm.memory().writeInt(0x7000, Integer.MAX_VALUE); // a loop far longer than the test
            vm.start();
            vm.pause();
            assertThat(vm.isPaused()).isTrue();
            assertThat(vm.outcome()).isNull();
            vm.resume();
            assertThat(vm.await(Duration.ofMillis(300))).as("still running after resume").isNull();
            vm.stop();
            VmOutcome outcome = vm.await(Duration.ofSeconds(10));
            assertThat(outcome).isEqualTo(new VmOutcome(ExitStatus.POWER_OFF, "stopped by the host"));
        }
        long threadsAfter = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("jhyve-") && t.isAlive()).count();
        assertThat(threadsAfter).isEqualTo(threadsBefore);
        assertThat(openFds()).isEqualTo(fdsBefore);
    }

    @Test
    void buildErrorsReleaseWhatWasCreated() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk"), "not bootable");
        long fdsBefore = openFds();
        try (KvmHypervisor kvm = KvmHypervisor.open()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> machine(kvm, junk, Map.of()).build())
                    .isInstanceOf(org.jhyve.boot.BootException.class);
        }
        assertThat(openFds()).isEqualTo(fdsBefore);
    }

    /** Threads that live on after the VMs closed and were not there before: see the leak test. */
    private static final int THREAD_SLACK = 2;
    private static final int LEAK_RUNS = 5;

    /**
     * Everything a VM takes from the process comes back on close(): file descriptors (/dev/kvm, the VM and
     * vCPU fds, the doorbells' eventfds, the disk image, COM1's file), threads (vCPUs, the halt detector,
     * virtio queue workers, the reader of COM2's Java streams) and mappings (guest RAM, each vCPU's kvm_run). Several VMs in a row, each with a
     * virtio-blk disk its guest drives through an ioeventfd doorbell and a queue worker, so that a leak of
     * one thing per VM shows as {@value #LEAK_RUNS}. The same image serves every run: an fd of it left open
     * would keep its flock, and the next VM could not open it.
     */
    @Test
    void closedVmsLeaveNoFdsThreadsOrMappingsBehind() throws Exception {
        Path program = GuestImages.extract(dir, "virtio-blk.elf");
        Path disk = Files.write(dir.resolve("leak.img"), new byte[1 << 20]);
        // One run before the baseline: the JVM opens the jars of the classes a VM needs as it first loads
        // them, and keeps them open; slf4j and the kick signal handler set themselves up once too.
        runDiskGuest(program, disk, 0);
        Map<String, String> fdsBefore = openFdTargets();
        Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
        long vcpuMappingsBefore = mappings().stream().filter(m -> m.contains("kvm-vcpu")).count();

        for (int run = 1; run <= LEAK_RUNS; run++) runDiskGuest(program, disk, run);

        Map<String, String> fdsAfter = openFdTargets();
        Map<String, String> newFds = new TreeMap<>(fdsAfter);
        newFds.entrySet().removeIf(e -> e.getValue().equals(fdsBefore.get(e.getKey())));
        // No slack: nothing else in the JVM opens files while this test runs.
        assertThat(fdsAfter).as("open fds after %d closed VMs; new or reused: %s", LEAK_RUNS, newFds).hasSameSizeAs(fdsBefore);

        // close() joins the threads it started, so they are gone already; the wait is for a slow machine only.
        // The slack is for threads the JVM itself may start lazily meanwhile (a ForkJoinPool common-pool
        // worker, say): fewer than the number of runs, so a thread leaked per VM still fails the test.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<String> newThreads;
        while (true) {
            newThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && !threadsBefore.contains(t)).map(Thread::getName).sorted().toList();
            if (newThreads.size() <= THREAD_SLACK || System.nanoTime() > deadline) break;
            Thread.sleep(50);
        }
        assertThat(newThreads).as("threads started since the baseline and still alive")
                .hasSizeLessThanOrEqualTo(THREAD_SLACK)
                .noneMatch(name -> name.startsWith("jhyve-") || name.startsWith("virtio-"));

        // Mappings are checked by what a VM maps itself (each run also checks its guest RAM is unmapped): the
        // total number of mappings is no measure, as glibc caches the stacks of ended threads and keeps the
        // malloc arenas they made.
        assertThat(mappings().stream().filter(m -> m.contains("kvm-vcpu")).count()).as("kvm_run mappings")
                .isEqualTo(vcpuMappingsBefore);
    }

    /**
     * Builds, runs, awaits and closes one VM whose guest drives a virtio-blk disk; checks its RAM is unmapped.
     * COM2 is on Java streams with more input queued than the port holds, which the guest never reads, so its
     * reader thread is still waiting for room when the VM closes.
     */
    private static void runDiskGuest(Path program, Path disk, int run) throws Exception {
        Path console = dir.resolve("leak-console-" + run + ".log");
        SerialConsole com2 = new SerialConsole();
        com2.input().write(new byte[2 * SerialInput.CAPACITY]);
        DeviceCatalog catalog = DeviceCatalog.withConsoles(Map.of("com1", new SerialBackendSpec.File(console), "com2", com2.spec()));
        List<long[]> ram = new ArrayList<>(); // [start, end) of each guest RAM mapping
        try (KvmHypervisor kvm = KvmHypervisor.open();
             VirtualMachine vm = machine(kvm, program, catalog)
                     .pci(new PciAddress(0, 4, 0), "virtio-blk", DeviceCatalog.standard(Map.of()).find("virtio-blk").orElseThrow(),
                             disk.toString())
                     .build()) {
            if (vm.memory() instanceof org.jhyve.memory.SegmentGuestMemory m) {
                m.regions().forEach(r -> ram.add(new long[] {r.host().address(), r.host().address() + r.size()}));
            }
            assertThat(ram).as("guest RAM mappings").isNotEmpty()
                    .allMatch(r -> mapped(r[0], r[1]), "mapped while the VM exists");
            vm.start();
            assertThat(vm.await().status()).isEqualTo(ExitStatus.POWER_OFF);
        }
        assertThat(Files.readString(console)).as("run %d's console", run).contains("write status=0\r\n").endsWith("done\r\n");
        assertThat(com2.output().readAllBytes()).as("run %d's COM2: nothing, then the end of the stream", run).isEmpty();
        // The kernel merges neighbouring mappings of the same kind into one line of /proc/self/maps, and may
        // hand out the freed range again: so "unmapped" is "no longer mapped from end to end".
        assertThat(ram).as("run %d: guest RAM unmapped by close()", run).noneMatch(r -> mapped(r[0], r[1]));
    }

    /** Whether /proc/self/maps covers every byte of [start, end). */
    private static boolean mapped(long start, long end) {
        long covered = start;
        for (String line : mappings()) {
            int dash = line.indexOf('-'), space = line.indexOf(' ');
            long from = Long.parseUnsignedLong(line, 0, dash, 16), to = Long.parseUnsignedLong(line, dash + 1, space, 16);
            if (from <= covered && covered < to) covered = to; // the lines are in address order
            if (covered >= end) return true;
        }
        return false;
    }

    /** fd number to what it is open on (a path, anon_inode:kvm-vm, anon_inode:[eventfd], socket:[...]...). */
    private static Map<String, String> openFdTargets() throws Exception {
        Map<String, String> fds = new TreeMap<>();
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : s.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (java.nio.file.NoSuchFileException closedMeanwhile) { // the listing's own directory fd
                    target = "(closed)";
                }
                fds.put(fd.getFileName().toString(), target);
            }
        }
        return fds;
    }

    private static List<String> mappings() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long openFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
