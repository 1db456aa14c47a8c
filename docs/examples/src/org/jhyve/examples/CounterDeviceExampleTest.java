package org.jhyve.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.firmware.KexecLoader;
import org.jhyve.kvm.KvmHypervisor;
import org.jhyve.pci.PciAddress;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VirtualMachine;
import org.jhyve.vm.VmBuilder;
import org.jhyve.vm.VmOutcome;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CounterDevice} in a real VM: plugged into PCI slot 3 next to the standard devices, and driven by the
 * guest program guests/src/main/asm/counter.s, which finds it on PCI, writes 41 and reads back 42.
 */
@Timeout(60)
class CounterDeviceExampleTest {
    @TempDir
    Path dir;

    @BeforeEach
    void needsKvm() {
        Assumptions.assumeTrue(KvmHypervisor.isAvailable(),
                () -> "needs KVM: " + KvmHypervisor.unavailableReason().orElse("/dev/kvm is not usable"));
    }

    @Test
    void theGuestFindsTheDeviceAndGetsValuePlusOne() throws Exception {
        Path console = dir.resolve("com1.log");
        DeviceCatalog catalog = DeviceCatalog.standard(Map.of("com1", console.toString()));
        CounterDevice counter = new CounterDevice(); // made here, so the test can look at it afterwards

        try (KvmHypervisor kvm = KvmHypervisor.open()) {
            VmBuilder machine = VmBuilder.on(kvm).memory(64L << 20)
                    .boot(KexecLoader.of(guestProgram("counter.elf")))
                    .pci(new PciAddress(0, 0, 0), "hostbridge", catalog.find("hostbridge").orElseThrow(), "")
                    // The custom device: any PciDeviceFactory goes here, just like the catalog's.
                    .pci(new PciAddress(0, 3, 0), "counter", CounterDevice.factory(counter), "")
                    .pci(new PciAddress(0, 31, 0), "lpc", catalog.find("lpc").orElseThrow(), "");
            catalog.platformDevices().forEach(machine::platform);
            try (VirtualMachine vm = machine.build()) {
                vm.start();
                VmOutcome outcome = vm.await();
                assertThat(outcome.status()).isEqualTo(ExitStatus.POWER_OFF);
            }
        }

        assertThat(Files.readString(console)).isEqualTo("counter says 42\r\n");
        assertThat(counter.value()).isEqualTo(41);
        assertThat(counter.accesses()).as("one MMIO write and one MMIO read").isEqualTo(2);
    }

    /** Copies a program of the guests module (a test dependency: resources /guests/NAME) to a file. */
    Path guestProgram(String name) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/guests/" + name)) {
            if (in == null) throw new IllegalStateException("/guests/" + name + " is not on the classpath");
            Path file = dir.resolve(name);
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        }
    }
}
