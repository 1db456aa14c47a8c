package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The guest programs booted by the {@code jhyve} command on real KVM: exact console output on stdio and
 * bhyve's exit status for each way a guest can end.
 */
@Timeout(120)
class GuestProgramsCliTest {
    @TempDir
    static Path dir;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    @Test
    void realModeProgramPrintsItsGreetingAndTheHostbridgeIdThenPowersOff() throws Exception {
        Path program = GuestImages.extract(dir, "hello-real.bin");
        JhyveProcess run = JhyveProcess.run("-m", "64M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + program);
        assertThat(run.out()).isEqualTo("Hello from real mode\r\nhostbridge vendor=1275 device=1275\r\n");
        assertThat(run.status()).as(run.err()).isEqualTo(1);
        assertThat(run.err()).isEmpty();
    }

    @Test
    void longModeProgramRunsIn64BitModeSetUpByJhyve() throws Exception {
        Path program = GuestImages.extract(dir, "hello-long.elf");
        JhyveProcess run = JhyveProcess.run("-m", "128M", "-c", "2", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + program);
        assertThat(run.out()).isEqualTo("Hello from 64-bit long mode\r\nhostbridge vendor=1275 device=1275\r\nlong mode: EFER.LMA=1\r\n");
        assertThat(run.status()).as(run.err()).isEqualTo(1);
    }

    /** The characters the guest wrote to COM1's transmit register, as the trace shows them. */
    private static String transmitted(java.util.List<String> trace) {
        var thr = java.util.regex.Pattern.compile(" pio   w 0x3f8/1 = 0x(\\p{XDigit}+) com1$");
        StringBuilder s = new StringBuilder();
        for (String line : trace) {
            var m = thr.matcher(line);
            if (m.find()) s.append((char) Integer.parseInt(m.group(1), 16));
        }
        return s.substring(1); // the first write is the baud-rate divisor, with LCR.DLAB set
    }

    @Test
    void traceShowsEveryExitAndDeviceAccessOfTheProgram() throws Exception {
        Path program = GuestImages.extract(dir, "hello-long.elf");
        Path trace = dir.resolve("hello.trace");
        JhyveProcess run = JhyveProcess.run("-m", "64M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "--trace", trace.toString(), "-f", "kexec," + program);
        assertThat(run.status()).as(run.err()).isEqualTo(1);
        var lines = java.nio.file.Files.readAllLines(trace);
        assertThat(lines).allMatch(l -> l.matches(" *\\d+\\.\\d{9} vcpu0 rip=\\p{XDigit}{16} (exit |pio  |pci  ) .*"), "every line is vCPU 0's, with a RIP");
        assertThat(transmitted(lines)).isEqualTo(run.out());
        assertThat(lines).anyMatch(l -> l.endsWith(" exit  pio 0x3f8"))
                .anyMatch(l -> l.endsWith(" pci   r 0:0:0 0x0/4 = 0x12751275 hostbridge"));
        // Powering off is the last thing the program does: the exit, then the write to PM1a_CNT.
        assertThat(lines.subList(lines.size() - 2, lines.size())).satisfiesExactly(
                exit -> assertThat(exit).endsWith(" exit  pio 0x404"),
                write -> assertThat(write).endsWith(" pio   w 0x404/2 = 0x3400 acpi-pm"));
    }

    @Test
    void aFilteredTraceHasOnlyWhatWasAskedFor() throws Exception {
        Path program = GuestImages.extract(dir, "hello-long.elf");
        Path trace = dir.resolve("com1.trace");
        JhyveProcess run = JhyveProcess.run("-m", "64M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "--trace", trace.toString(), "--trace-filter", "pio;device=com1;range=0x3f8", "-f", "kexec," + program);
        assertThat(run.status()).as(run.err()).isEqualTo(1);
        var lines = java.nio.file.Files.readAllLines(trace);
        assertThat(lines).isNotEmpty().allMatch(l -> l.contains(" pio   w 0x3f8/1 = ") && l.endsWith(" com1"));
        assertThat(transmitted(lines)).isEqualTo(run.out());
    }

    @Test
    void withoutAHostbridgeTheProgramSeesAnEmptySlot() throws Exception {
        Path program = GuestImages.extract(dir, "hello-real.bin");
        JhyveProcess run = JhyveProcess.run("-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + program);
        assertThat(run.out()).isEqualTo("Hello from real mode\r\nhostbridge missing\r\n");
        assertThat(run.status()).isEqualTo(1);
    }

    @Test
    void keyboardControllerResetEndsWithStatusZero() throws Exception {
        Path reset = GuestImages.bootSector(dir, "reset.bin", 0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe); // mov al,0xfe; out 0x64,al; jmp $
        JhyveProcess run = JhyveProcess.run("-f", "kexec," + reset);
        assertThat(run.status()).as(run.err()).isZero();
    }

    @Test
    void tripleFaultEndsWithStatusThree() throws Exception {
        // lidt [0x7c20] loads an empty IDT (limit 0) and CR0.PE turns protected mode on; int3 then cannot
        // be delivered (#GP), nor can the #GP (#DF), nor the #DF: triple fault.
        Path crash = GuestImages.bootSector(dir, "triple.bin",
                0x0f, 0x01, 0x1e, 0x20, 0x7c, // lidt [0x7c20]
                0x0f, 0x20, 0xc0,             // mov eax, cr0
                0x0c, 0x01,                   // or al, 1
                0x0f, 0x22, 0xc0,             // mov cr0, eax
                0xcc, 0xeb, 0xfe);            // int3; jmp $
        JhyveProcess run = JhyveProcess.run("-f", "kexec," + crash);
        assertThat(run.status()).as(run.err()).isEqualTo(3);
    }

    @Test
    void exitOnUnhandledIoStopsAtTheFirstUnclaimedPort() throws Exception {
        // out 0x99,al: nothing claims port 0x99. Without -e the guest goes on to the reset; with -e jhyve stops.
        Path probe = GuestImages.bootSector(dir, "probe.bin", 0xe6, 0x99, 0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe);
        assertThat(JhyveProcess.run("-f", "kexec," + probe).status()).isZero();
        JhyveProcess strict = JhyveProcess.run("-e", "-f", "kexec," + probe);
        assertThat(strict.status()).isEqualTo(4);
        assertThat(strict.err()).contains("jhyve: unhandled port-io write of 1 bytes at 0x99 (-e: exit on unhandled I/O)");
    }

    @Test
    void guestOutputCanGoToAFile() throws Exception {
        Path program = GuestImages.extract(dir, "hello-long.elf");
        Path log = dir.resolve("com1.log");
        JhyveProcess run = JhyveProcess.run("-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1," + log, "-f", "kexec," + program);
        assertThat(run.status()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(java.nio.file.Files.readString(log)).startsWith("Hello from 64-bit long mode\r\n");
    }

    @Test
    void pidFileExistsWhileRunningAndIsRemovedAfter() throws Exception {
        Path program = GuestImages.extract(dir, "hello-real.bin");
        Path pid = dir.resolve("vm.pid");
        JhyveProcess run = JhyveProcess.run("-F", pid.toString(), "-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + program);
        assertThat(run.status()).isEqualTo(1);
        assertThat(pid).doesNotExist();
    }

    @Test
    void aProgramThatIsNotBootableIsOneLineAndStatusFour() throws Exception {
        Path junk = java.nio.file.Files.writeString(dir.resolve("junk.txt"), "not a kernel");
        JhyveProcess run = JhyveProcess.run("-f", "kexec," + junk);
        assertThat(run.status()).isEqualTo(4);
        assertThat(run.err()).startsWith("jhyve: -f kexec," + junk + ": ").contains("not a kernel or program jhyve can boot").hasLineCount(1);
    }

    @Test
    void sigtermStopsAGuestThatHasNoAcpiDriverWithStatusOne() throws Exception {
        // mov dx,0x510; 1: out dx,al; jmp 1b: busy forever unless stopped.
        Path loop = GuestImages.bootSector(dir, "forever.bin", 0xba, 0x10, 0x05, 0xee, 0xeb, 0xfd);
        Path err = dir.resolve("sigterm.err");
        Process p = JhyveProcess.start(err, "-f", "kexec," + loop);
        // SIGTERM before jhyve has installed its handler would be the JVM's default (exit 143): wait until the
        // guest runs, i.e. its vCPU thread exists (started after the handler), rather than for a fixed time.
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (!hasThread(p.pid(), "jhyve-vcpu-0") && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        Thread.sleep(200); // and spins
        assertThat(p.isAlive()).isTrue();
        p.destroy(); // SIGTERM
        assertThat(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("ended after SIGTERM").isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(err).isEmptyFile();
    }

    /** Whether process {@code pid} has a thread named {@code name} (as /proc shows it: at most 15 characters). */
    private static boolean hasThread(long pid, String name) throws java.io.IOException {
        String comm = name.length() > 15 ? name.substring(0, 15) : name;
        try (var tasks = java.nio.file.Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    if (java.nio.file.Files.readString(t.resolve("comm")).strip().equals(comm)) return true;
                } catch (java.io.IOException e) {
                    // The thread ended while we looked.
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            return false; // the process ended
        }
        return false;
    }

    @Test
    void instructionsTheHypervisorCannotEmulateAreCompletedByJhyve() throws Exception {
        // On hosts without VMX/SVM, KVM's emulator gives up on int3, fwait and ldmxcsr/stmxcsr in guest
        // kernel mode; jhyve decodes and completes them. With VMX/SVM they run natively: same output.
        Path program = GuestImages.extract(dir, "fallback.elf");
        JhyveProcess run = JhyveProcess.run("-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + program);
        assertThat(run.out()).isEqualTo("fallback test\r\nbreakpoint handled, return address ok\r\nfwait done\r\nmxcsr=1fa0\r\n");
        assertThat(run.status()).as(run.err()).isEqualTo(1);
    }

    @Test
    void sseProgramPrintsTheXmm1AndMxcsrValuesItLoaded() throws Exception {
        // movdqu runs in KVM's emulator (or natively); ldmxcsr/stmxcsr are completed by jhyve where KVM cannot.
        Path program = GuestImages.extract(dir, "sse.elf");
        JhyveProcess run = JhyveProcess.run("-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + program);
        assertThat(run.out()).isEqualTo("xmm1=11223344 55667788 99aabbcc ddeeff00 mxcsr=00007f80\r\n");
        assertThat(run.status()).as(run.err()).isEqualTo(1);
    }

    /** In both irqchip modes: KVM's in-kernel APIC keeps the halt, or jhyve's own platform does. */
    @ParameterizedTest(name = "--irqchip {0}")
    @ValueSource(strings = {"kernel", "userspace"})
    void haltingWithInterruptsDisabledEndsWithStatusTwo(String irqchip) throws Exception {
        Path halt = GuestImages.bootSector(dir, "halt.bin", 0xfa, 0xf4, 0xeb, 0xfd); // cli; 1: hlt; jmp 1b
        // -c 2: the AP never gets a startup IPI, which counts as halted too.
        JhyveProcess run = JhyveProcess.run("-c", "2", "--irqchip", irqchip, "-f", "kexec," + halt);
        assertThat(run.status()).as(run.err()).isEqualTo(2);
    }

    @ParameterizedTest(name = "--irqchip {0}")
    @ValueSource(strings = {"kernel", "userspace"})
    void haltingWithInterruptsEnabledIsNotTheEnd(String irqchip) throws Exception {
        // sti; hlt: a timer or device could still wake it, so jhyve must not call it halted. SIGTERM ends it.
        Path idle = GuestImages.bootSector(dir, "idle.bin", 0xfb, 0xf4, 0xeb, 0xfd);
        Path err = dir.resolve("idle.err");
        Process p = JhyveProcess.start(err, "--irqchip", irqchip, "-f", "kexec," + idle);
        Thread.sleep(3000);
        assertThat(p.isAlive()).as("still waiting for an interrupt after 3 s").isTrue();
        p.destroy();
        assertThat(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
    }
}
