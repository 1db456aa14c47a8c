package org.jhyve.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.hv.VmExit;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciConfigPorts;
import org.jhyve.pci.PciFunction;
import org.jhyve.testing.FakeHypervisor;
import org.jhyve.testing.FakeVcpu;
import org.jhyve.trace.TraceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VM's life on scripted vCPUs (no KVM needed): start once, pause and resume, stop, await, and close, which
 * ends the threads and releases what the VM holds, also when the VM never ran or its build failed.
 */
@Timeout(20)
class VmLifecycleTest {
    final FakeHypervisor hypervisor = new FakeHypervisor();
    /** The threads that ran each vCPU. */
    final Set<Thread> vcpuThreads = ConcurrentHashMap.newKeySet();
    final AtomicInteger runs = new AtomicInteger();

    @TempDir
    Path dir;

    VmBuilder machine(int vcpus) {
        return VmBuilder.on(hypervisor).memory(1L << 20).vcpus(vcpus).boot(FakeHypervisor.NOTHING);
    }

    /** Every vCPU spins until kicked, counting its runs and remembering its thread. */
    void spinCounting() {
        for (FakeVcpu v : hypervisor.vm().vcpus()) {
            v.program(vcpu -> {
                vcpuThreads.add(Thread.currentThread());
                runs.incrementAndGet();
                return vcpu.spinUntilKicked();
            });
        }
    }

    @Test
    void aVmStartsOnceAndPausesAndResumesOnlyWhileRunning() throws Exception {
        try (VirtualMachine vm = machine(1).build()) {
            assertThatThrownBy(vm::pause).isInstanceOf(IllegalStateException.class).hasMessage("VM is not running");
            assertThatThrownBy(vm::resume).isInstanceOf(IllegalStateException.class).hasMessage("VM is not running");
            vm.start();
            assertThatThrownBy(vm::start).isInstanceOf(IllegalStateException.class).hasMessage("VM already started");
            vm.stop();
            vm.await();
        }
    }

    @Test
    void pauseParksEveryVcpuBetweenRunsAndResumeLetsThemRunAgain() throws Exception {
        try (VirtualMachine vm = machine(2).build()) {
            spinCounting();
            vm.start();
            vm.pause();
            assertThat(vm.isPaused()).isTrue();
            assertThat(vm.outcome()).isNull();
            int paused = runs.get();
            Thread.sleep(200);
            assertThat(runs.get()).as("no vCPU runs while paused").isEqualTo(paused);

            vm.resume();
            assertThat(vm.isPaused()).isFalse();
            assertThat(vm.await(Duration.ofMillis(300))).as("still running after resume").isNull();
            hypervisor.vm().vcpus().forEach(FakeVcpu::kick); // one more run each, as the guest would get
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (runs.get() < paused + 2 && System.nanoTime() < deadline) Thread.sleep(5);
            assertThat(runs.get()).as("the vCPUs run again").isGreaterThanOrEqualTo(paused + 2);

            vm.stop();
            assertThat(vm.await(Duration.ofSeconds(10))).isEqualTo(new VmOutcome(ExitStatus.POWER_OFF, "stopped by the host"));
        }
    }

    @Test
    void stopEndsAPausedVm() throws Exception {
        try (VirtualMachine vm = machine(2).build()) {
            vm.start();
            vm.pause();
            vm.stop();
            assertThat(vm.await(Duration.ofSeconds(10)).status()).isEqualTo(ExitStatus.POWER_OFF);
        }
    }

    @Test
    void awaitReturnsHowTheVmEndedOnceEveryVcpuThreadHasEnded() throws Exception {
        try (VirtualMachine vm = machine(2).build()) {
            spinCounting();
            AtomicBoolean halted = new AtomicBoolean();
            hypervisor.vcpu(0).program(vcpu -> {
                if (halted.getAndSet(true)) return vcpu.spinUntilKicked();
                while (vcpuThreads.isEmpty()) Thread.onSpinWait(); // vCPU 1 is in the guest: its thread must end too
                return new VmExit.Halt();
            });
            assertThat(vm.outcome()).isNull();
            vm.start();
            VmOutcome outcome = vm.await();
            assertThat(outcome).isEqualTo(new VmOutcome(ExitStatus.HALT, "vCPU 0 halted"));
            assertThat(vm.outcome()).isSameAs(outcome);
            assertThat(vcpuThreads).as("vCPU 1's thread").isNotEmpty().noneMatch(Thread::isAlive);
        }
    }

    @Test
    void requestPowerOffPressesTheButtonWhenTheGuestListens() throws Exception {
        AtomicInteger presses = new AtomicInteger();
        try (VirtualMachine vm = machine(1).platform(m -> m.installPowerButton(() -> presses.incrementAndGet() > 0)).build()) {
            vm.start();
            assertThat(vm.requestPowerOff()).isTrue();
            assertThat(presses).hasValue(1);
            assertThat(vm.await(Duration.ofMillis(200))).as("the guest shuts itself down, in its own time").isNull();
        }
    }

    @Test
    void requestPowerOffStopsAVmWhoseGuestDoesNotListen() throws Exception {
        try (VirtualMachine vm = machine(1).platform(m -> m.installPowerButton(() -> false)).build()) {
            vm.start();
            assertThat(vm.requestPowerOff()).isFalse();
            assertThat(vm.await(Duration.ofSeconds(10))).isEqualTo(new VmOutcome(ExitStatus.POWER_OFF, "stopped by the host"));
        }
        try (VirtualMachine vm = machine(1).build()) {
            vm.start();
            assertThat(vm.requestPowerOff()).as("no button at all").isFalse();
            assertThat(vm.await(Duration.ofSeconds(10)).status()).isEqualTo(ExitStatus.POWER_OFF);
        }
    }

    @Test
    void devicesSeeTheMachineTheyArePluggedInto() throws Exception {
        UUID id = UUID.randomUUID();
        List<MachineContext> seen = new CopyOnWriteArrayList<>();
        try (VirtualMachine vm = machine(2).uuid(id).platform(seen::add).build()) {
            MachineContext machine = seen.getFirst();
            assertThat(machine.memory()).isSameAs(vm.memory());
            assertThat(machine.vcpuCount()).isEqualTo(2);
            assertThat(machine.uuid()).contains(id);
            assertThat(machine.ioPorts().lookup(PciConfigPorts.BASE).name()).isEqualTo("pci-config");
            assertThat(vm.gdbAddress()).as("no gdb asked for").isEmpty();
        }
    }

    @Test
    void closeStopsARunningVmAndReleasesItsThreadsDevicesVcpusAndRam() throws Exception {
        List<String> closed = new CopyOnWriteArrayList<>();
        ClosingDevice pciDevice = new ClosingDevice(closed);
        Path trace = dir.resolve("trace");
        VirtualMachine vm = machine(2)
                .pci(new PciAddress(0, 3, 0), "closing", (m, address, options) -> pciDevice, "")
                .platform(m -> m.closeOnExit(() -> closed.add("first")))
                .platform(m -> m.closeOnExit(() -> closed.add("second")))
                .trace(TraceConfig.everything(trace))
                .build();
        FakeHypervisor.FakeVm fake = hypervisor.vm();
        spinCounting();
        VmExit.PortIo out = new VmExit.PortIo(0x510, 1, 1, true, MemorySegment.ofArray(new byte[1]));
        AtomicBoolean wrote = new AtomicBoolean();
        hypervisor.vcpu(0).program(vcpu -> {
            vcpuThreads.add(Thread.currentThread());
            runs.incrementAndGet();
            return wrote.getAndSet(true) ? vcpu.spinUntilKicked() : out;
        });
        vm.start();
        while (runs.get() < 3) Thread.sleep(5); // vCPU 0 is past its port write, vCPU 1 spins

        vm.close();
        assertThat(vm.outcome()).isEqualTo(new VmOutcome(ExitStatus.POWER_OFF, "VM closed"));
        assertThat(vcpuThreads).noneMatch(Thread::isAlive);
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .noneMatch(name -> name.startsWith("jhyve-vcpu-") || name.equals("jhyve-halt-detector"));
        assertThat(closed).as("last registered first; the PCI device before the platform devices' resources")
                .containsExactly("second", "first", "pci device");
        assertThat(fake.vcpus()).hasSize(2).allMatch(FakeVcpu::isClosed);
        assertThat(fake.isClosed()).isTrue();
        assertThat(Files.readAllLines(trace)).as("the trace, written and closed").anyMatch(l -> l.endsWith(" exit  pio 0x510"));

        vm.close();
        assertThat(closed).as("close is idempotent").hasSize(3);
    }

    @Test
    void closeReleasesAVmThatNeverRan() {
        List<String> closed = new CopyOnWriteArrayList<>();
        VirtualMachine vm = machine(1).platform(m -> m.closeOnExit(() -> closed.add("resource"))).build();
        vm.close();
        assertThat(vm.outcome()).as("a VM that never started has no outcome").isNull();
        assertThat(closed).containsExactly("resource");
        assertThat(hypervisor.vcpu(0).isClosed()).isTrue();
        assertThat(hypervisor.vm().isClosed()).isTrue();
    }

    @Test
    void aFailedBuildReleasesWhatWasCreated() {
        List<String> closed = new CopyOnWriteArrayList<>();
        VmBuilder builder = machine(1)
                .platform(m -> m.closeOnExit(() -> closed.add("resource")))
                .platform(m -> {
                    throw new DeviceConfigException("no such device");
                });
        assertThatThrownBy(builder::build).isInstanceOf(DeviceConfigException.class).hasMessage("no such device");
        assertThat(closed).containsExactly("resource");
        assertThat(hypervisor.vm().isClosed()).isTrue();
    }

    @Test
    void withGdbTheVcpusWaitForItAndStopStillEndsTheVm() throws Exception {
        try (VirtualMachine vm = machine(1).gdb(0).build()) {
            assertThat(vm.gdbAddress()).get().isInstanceOfSatisfying(InetSocketAddress.class, a -> {
                assertThat(a.getAddress().isLoopbackAddress()).isTrue();
                assertThat(a.getPort()).isPositive();
            });
            spinCounting();
            vm.start();
            Thread.sleep(200);
            assertThat(runs).as("held before the first instruction until gdb continues").hasValue(0);
            vm.stop();
            assertThat(vm.await(Duration.ofSeconds(10)).status()).isEqualTo(ExitStatus.POWER_OFF);
        }
    }

    /** A PCI device the VM closes with itself. */
    static final class ClosingDevice extends PciFunction implements AutoCloseable {
        private final List<String> closed;

        ClosingDevice(List<String> closed) {
            super("closing", 0x1234, 0x0001, 0xff0000, 0);
            this.closed = closed;
        }

        @Override
        public void close() {
            closed.add("pci device");
        }
    }
}
