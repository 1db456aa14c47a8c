package org.jhyve.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jhyve.trace.TraceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench-exits' instrument: a VM on instant exits goes through jhyve's real exit path (the trace shows each
 * exit and bus access the guest program would cause) and ends by the ACPI power-off, without KVM.
 */
class InstantExitHypervisorTest {
    @TempDir
    Path dir;

    @Test
    void runsExactlyTheExitsOfTheExitLoopThroughTheRealPathAndPowersOff() throws Exception {
        Path trace = dir.resolve("trace");
        try (ExitLoopImage image = ExitLoopImage.locate(Optional.empty()); var hypervisor = InstantExitHypervisor.create()) {
            // runOnce throws unless the VM powered off.
            long nanos = ExitLoopBenchmark.runOnce(hypervisor, image.path(), Optional.of(trace), 1000);
            assertThat(nanos).isPositive();
        }
        var lines = Files.readAllLines(trace);
        assertThat(lines).filteredOn(l -> l.endsWith(" exit  pio 0x510")).hasSize(1000);
        assertThat(lines).filteredOn(l -> l.endsWith(" pio   w 0x510/1 = 0x0 unclaimed")).hasSize(1000);
        assertThat(lines.getLast()).endsWith(" pio   w 0x404/2 = 0x3400 acpi-pm");
    }
}
