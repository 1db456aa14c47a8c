package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.jhyve.devices.DeviceCatalog;
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
        DeviceCatalog catalog = DeviceCatalog.standard(lpc);
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

    private static long openFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
