package org.jhyve.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Booting a guest from a JUnit test through jhyve's Java API: the same machine as
 * {@code jhyve -m 64M -s 0:0,hostbridge -s 31,lpc -l com1,PATH -f kexec,hello-long.elf}, built in code.
 * See docs/embedding.md.
 */
@Timeout(60)
class EmbeddingExampleTest {
    @TempDir
    Path dir;

    @BeforeEach
    void needsKvm() {
        // Skipped, with the reason in the report, where /dev/kvm is missing or not ours to open.
        Assumptions.assumeTrue(KvmHypervisor.isAvailable(),
                () -> "needs KVM: " + KvmHypervisor.unavailableReason().orElse("/dev/kvm is not usable"));
    }

    @Test
    void bootsAGuestProgramAndReadsItsConsole() throws Exception {
        Path program = guestProgram("hello-long.elf");
        Path console = dir.resolve("com1.log");

        // The standard devices; "com1" -> a path makes COM1 append the guest's output to that file.
        DeviceCatalog catalog = DeviceCatalog.standard(Map.of("com1", console.toString()));

        try (KvmHypervisor kvm = KvmHypervisor.open()) {                  // opens /dev/kvm
            VmBuilder machine = VmBuilder.on(kvm)
                    .memory(64L << 20)                                          // -m 64M
                    .vcpus(1)                                                   // -c 1
                    .boot(new KexecLoader(program, Optional.empty(), ""))      // -f kexec,PROGRAM
                    .pci(new PciAddress(0, 0, 0), "hostbridge", catalog.find("hostbridge").orElseThrow(), "")
                    .pci(new PciAddress(0, 31, 0), "lpc", catalog.find("lpc").orElseThrow(), "");
            // Not on PCI: ACPI power management (the guest powers off through port 0x404) and the i8042 reset.
            catalog.platformDevices().forEach(machine::platform);

            try (VirtualMachine vm = machine.build()) {                   // RAM, devices, the program loaded, vCPUs
                vm.start();                                               // one thread per vCPU
                VmOutcome outcome = vm.await(Duration.ofSeconds(30));     // null if it still runs by then
                assertThat(outcome).isNotNull();
                assertThat(outcome.status()).isEqualTo(ExitStatus.POWER_OFF);
                assertThat(outcome.reason()).contains("0x404");
            } // close() stops the VM if it still runs, then releases its threads, devices, fds and guest RAM
        }

        // Closing the VM closed COM1's file, so everything the guest printed is in it.
        assertThat(Files.readString(console)).startsWith("Hello from 64-bit long mode\r\n")
                .contains("hostbridge vendor=1275 device=1275\r\n");
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
