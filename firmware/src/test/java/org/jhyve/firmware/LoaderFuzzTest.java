package org.jhyve.firmware;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.jhyve.boot.BootException;
import org.jhyve.boot.BootState;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;

/**
 * Fuzz target for the guest loaders (docs/reliability.md): {@link KexecLoader#load}, the entry point behind
 * {@code -f kexec,KERNEL,INITRD,CMDLINE}, on a kernel file, an initrd and a command line the input gives; the
 * format is detected from the bytes, so one target covers the boot-sector, ELF64-program, ELF/PVH and bzImage
 * loaders, with ACPI tables and the MP table on or off, into 16 MiB of guest RAM.
 *
 * <p>Input: [0] flags (bit 0 an initrd, bit 1 ACPI tables, bit 2 the MP table), [1-2] the initrd's length
 * (little-endian), [3] the command line's length, then the command line (ISO-8859-1), the initrd, and the rest
 * is the kernel file.
 *
 * <p>Documented exception: {@link BootException} (one line for the user). Asserted: nothing else escapes; no
 * access outside guest RAM (the loaders check every range before they write); the step budget holds; a
 * successful load returns a boot state with registers.
 */
class LoaderFuzzTest {
    private static final long RAM = 16L << 20;
    private static final long BUDGET = 1_000_000;
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.FINDING, new Findings("loaders"), BUDGET, 0, RAM);
    private static final Path DIR = scratchDirectory();

    private static Path scratchDirectory() {
        try {
            Path shm = Path.of("/dev/shm");
            Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "jhyve-fuzz-") : Files.createTempDirectory("jhyve-fuzz-");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10s")
    void kexec(byte[] input) throws IOException {
        Findings findings = new Findings("loaders");
        // Guest RAM is not cleared between inputs: the loaders only write it, and 16 MiB a run would dominate.
        MEMORY.arm(findings, BUDGET);
        byte[] in = Arrays.copyOf(input, Math.max(input.length, 4));
        int flags = in[0] & 0xff;
        int initrdLength = (in[1] & 0xff) | (in[2] & 0xff) << 8, cmdlineLength = in[3] & 0xff;
        int at = 4;
        String cmdline = new String(in, at, Math.min(cmdlineLength, in.length - at), StandardCharsets.ISO_8859_1);
        at = Math.min(in.length, at + cmdlineLength);
        byte[] initrd = Arrays.copyOfRange(in, at, Math.min(in.length, at + initrdLength));
        at = Math.min(in.length, at + initrdLength);
        Path kernel = DIR.resolve("kernel"), initrdFile = DIR.resolve("initrd");
        Files.write(kernel, Arrays.copyOfRange(in, at, in.length));
        Files.write(initrdFile, initrd);
        KexecLoader loader = new KexecLoader(kernel, (flags & 1) != 0 ? Optional.of(initrdFile) : Optional.empty(),
                (flags & 8) != 0 ? cmdline : "", (flags & 2) != 0, CpuTemplate.HOST, (flags & 4) != 0);
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> e.thrown() != null)) {
            BootState state = loader.load(MEMORY, 1 + (flags >>> 4) % 4);
            findings.check(state != null && state.registers() != null && state.specialRegisters() != null, "a load returned no boot state");
        } catch (BootException e) {
            // Documented: the user gets its one line and exit status 4.
        } finally {
            findings.throwIfAny();
        }
    }
}
