package org.jhyve.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.devices.uart.SerialConsole;
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
 * {@code jhyve -m 64M -s 0:0,hostbridge -s 31,lpc -l com1,stdio -f kexec,hello-long.elf}, built in code,
 * with COM1 on Java streams rather than on stdio. See docs/embedding.md.
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

        // COM1 as a pair of streams: output() is what the guest prints, input() what it receives.
        SerialConsole com1 = new SerialConsole();
        BufferedReader console = new BufferedReader(new InputStreamReader(com1.output(), StandardCharsets.US_ASCII));
        // The standard devices, with COM1 on those streams (DeviceCatalog.standard takes -l strings instead).
        DeviceCatalog catalog = DeviceCatalog.withConsoles(Map.of("com1", com1.spec()));

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
                // Live, while the guest runs: readLine() waits for its next line.
                assertThat(console.readLine()).isEqualTo("Hello from 64-bit long mode");
                VmOutcome outcome = vm.await(Duration.ofSeconds(30));     // null if it still runs by then
                assertThat(outcome).isNotNull();
                assertThat(outcome.status()).isEqualTo(ExitStatus.POWER_OFF);
                assertThat(outcome.reason()).contains("0x404");
            } // close() stops the VM if it still runs, then releases its threads, devices, fds and guest RAM
        }

        // Closing the VM closed COM1's streams: the rest of the output is there, then the end of the stream.
        assertThat(console.lines()).contains("hostbridge vendor=1275 device=1275");
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
