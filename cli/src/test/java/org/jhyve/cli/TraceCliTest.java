package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jhyve.trace.TraceConfig;
import org.jhyve.trace.TraceFilter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --trace} and {@code --trace-filter}: what they become, and their one-line errors (no /dev/kvm needed). */
class TraceCliTest {
    @TempDir
    static Path dir;
    static String kernel;

    @BeforeAll
    static void kernelFile() throws IOException {
        kernel = Files.writeString(dir.resolve("kernel"), "any file: validation comes first").toString();
    }

    private static MachineSpec spec(String... flags) throws UsageException {
        return ParsedSpec.of(flags);
    }

    @Test
    void withoutTraceNothingIsTraced() throws UsageException {
        assertThat(spec("-f", "kexec," + kernel).trace()).isEmpty();
    }

    @Test
    void traceAloneTracesEverything() throws UsageException {
        Path file = dir.resolve("all.trace");
        assertThat(spec("--trace", file.toString(), "-f", "kexec," + kernel).trace())
                .contains(new TraceConfig(file, TraceFilter.everything()));
        assertThat(file).as("nothing is created before the VM is").doesNotExist();
    }

    @Test
    void theFilterIsParsed() throws UsageException {
        Path file = dir.resolve("com1.trace");
        TraceConfig config = spec("--trace", file.toString(), "--trace-filter", "exit,pio;range=0x3f8-0x3ff", "-f", "kexec," + kernel)
                .trace().orElseThrow();
        assertThat(config.filter()).isEqualTo(TraceFilter.parse("kind=exit,pio;range=0x3f8-0x3ff"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--trace-filter pio                   | --trace-filter pio: needs --trace FILE (where the lines go)",
            "--trace FILE --trace-filter pio,dma    | --trace-filter pio,dma: unknown kind 'dma' (exit, pio, mmio, pci, virtq, irq)",
            "--trace FILE --trace-filter range=3f8  | --trace-filter range=3f8: '3f8' is not an address or range (e.g. 0x3f8-0x3ff)",
            "--trace FILE --trace-filter size=4     | --trace-filter size=4: unknown key 'size' (kind=, device=, range=)",
            "--trace DIR                          | --trace DIR: is a directory",
            "--trace /no/such/dir/x.trace          | --trace /no/such/dir/x.trace: no such directory /no/such/dir",
    })
    void badTraceFlagsAreOneLineAndStatusFour(String flags, String expected) {
        String[] args = (flags.replace("FILE", dir.resolve("x.trace").toString()).replace("DIR", dir.toString()) + " -f kexec," + kernel).split(" ");
        CliRun run = CliRun.of(args);
        assertThat(run.status()).isEqualTo(4);
        assertThat(run.err()).isEqualTo("jhyve: " + expected.replace("DIR", dir.toString()) + System.lineSeparator());
        assertThat(run.out()).isEmpty();
    }
}
