package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a device author reads in the trace with {@code --irqchip userspace}: irq-test's interrupts from raise to
 * injection, its EOIs of level-triggered vectors and its timers armed and fired, as {@code irqchip} lines.
 */
@Timeout(120)
class IrqchipTraceTest {
    @TempDir
    Path dir;

    @BeforeEach
    void kvm() {
        GuestImages.assumeKvm();
    }

    @Test
    void theTraceShowsInjectionsEoisAndTimers() throws Exception {
        Path program = GuestImages.extract(dir, "irq-test.elf");
        Path trace = dir.resolve("trace.txt");
        JhyveProcess run = JhyveProcess.run("-m", "64M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "--irqchip", "userspace", "--trace", trace.toString(), "--trace-filter", "irq", "-f", "kexec," + program);
        assertThat(run.status()).as(run.err()).isEqualTo(1);
        String lines = Files.readString(trace);
        assertThat(lines)
                // the LAPIC timer test: armed, fired, its vector injected from the APIC
                .containsPattern("irq +irqchip timer-armed lapic0 in=\\d+ns")
                .containsPattern("irq +irqchip timer-fired lapic0")
                .containsPattern("irq +irqchip inject vcpu=0 vector=0x[0-9a-f]+ apic")
                // the UART's line raised and lowered, and the level-triggered entry's EOI reaching the IOAPIC
                .containsPattern("irq +gsi=4 level=1")
                .containsPattern("irq +irqchip eoi vector=0x[0-9a-f]+ level")
                .doesNotContain("jhyve:");
    }
}
