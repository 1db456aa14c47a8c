package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multiboot kernels booted by the {@code jhyve} command on real KVM, ending through isa-debug-exit with a
 * status of the guest's choosing: a tiny kernel assembled here, and kvm-unit-tests' realmode.flat when the
 * suite has been built (scripts/kvm-unit-tests builds it into target/kvm-unit-tests).
 */
@Timeout(120)
class MultibootGuestCliTest {
    @TempDir
    static Path dir;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    /**
     * A flat Multiboot kernel (flag bit 16: the header gives the load addresses) at 1 MiB: if EAX holds the
     * boot loader's magic it prints "ok" on COM1 and exits through port 0xf4 with mem_lower / 64 (640 KiB:
     * 10, so the process status is (10 << 1) | 1 = 21) read through EBX; otherwise it exits with 0x7f (255).
     */
    static byte[] tinyKernel() {
        int flags = 1 << 16;
        ByteBuffer b = ByteBuffer.allocate(32 + 64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x1BADB002).putInt(flags).putInt(-(0x1BADB002 + flags))
                .putInt(0x100000).putInt(0x100000).putInt(0).putInt(0).putInt(0x100020);
        b.position(32);
        b.put(new byte[] {
            0x3d, 0x02, (byte) 0xb0, (byte) 0xad, 0x2b,     // cmp eax, 0x2badb002
            0x75, 0x16,                                     // jne fail
            0x66, (byte) 0xba, (byte) 0xf8, 0x03,           // mov dx, 0x3f8
            (byte) 0xb0, 'o', (byte) 0xee,                  // mov al, 'o'; out dx, al
            (byte) 0xb0, 'k', (byte) 0xee,                  // mov al, 'k'; out dx, al
            (byte) 0x8b, 0x43, 0x04,                        // mov eax, [ebx + 4]   (mem_lower)
            (byte) 0xc1, (byte) 0xe8, 0x06,                 // shr eax, 6
            0x66, (byte) 0xba, (byte) 0xf4, 0x00,           // mov dx, 0xf4
            (byte) 0xef, (byte) 0xf4,                       // out dx, eax; hlt
            (byte) 0xb8, 0x7f, 0x00, 0x00, 0x00,            // fail: mov eax, 0x7f
            0x66, (byte) 0xba, (byte) 0xf4, 0x00,           // mov dx, 0xf4
            (byte) 0xef, (byte) 0xf4,                       // out dx, eax; hlt
        });
        return b.array();
    }

    @Test
    void aMultibootKernelGetsTheMagicAndTheInformationAndChoosesJhyvesExitStatus() throws Exception {
        Path kernel = Files.write(dir.resolve("tiny.mb"), tinyKernel());
        JhyveProcess run = JhyveProcess.run("-m", "64M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "-l", "isa-debug-exit", "-f", "kexec," + kernel);
        assertThat(run.out()).isEqualTo("ok");
        assertThat(run.status()).as(run.err()).isEqualTo((10 << 1) | 1);
    }

    @Test
    void withoutIsaDebugExitTheWriteGoesNowhereAndTheHaltEndsTheVm() throws Exception {
        Path kernel = Files.write(dir.resolve("tiny2.mb"), tinyKernel());
        JhyveProcess run = JhyveProcess.run("-m", "64M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + kernel);
        assertThat(run.out()).isEqualTo("ok");
        assertThat(run.status()).as(run.err()).isEqualTo(2); // bhyve's "halted"
    }

    /**
     * kvm-unit-tests' realmode (Multiboot, then real mode, the BIOS's PIC and timer) and smptest (two vCPUs
     * brought up by INIT/SIPI, the CPU count from fw_cfg) pass on jhyve, with KVM's irqchip and with jhyve's own.
     */
    @ParameterizedTest(name = "{0} --irqchip {1}")
    @CsvSource({"realmode, kernel", "realmode, userspace", "smptest, kernel", "smptest, userspace"})
    void kvmUnitTestsPassOnJhyve(String test, String irqchip) throws Exception {
        Path flat = Path.of(System.getProperty("user.dir")).resolveSibling("target/kvm-unit-tests/src/x86/" + test + ".flat");
        Assumptions.assumeTrue(Files.isRegularFile(flat), () -> "kvm-unit-tests not built: no " + flat + " (scripts/kvm-unit-tests --build-only)");
        JhyveProcess run = JhyveProcess.run("-m", "256M", "-c", test.equals("smptest") ? "2" : "1", "--irqchip", irqchip,
                "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "-l", "pc-testdev", "-l", "isa-debug-exit", "-l", "fwcfg,qemu", "-f", "kexec," + flat);
        // realmode prints no SUMMARY line (its own report()); its exit status says whether any test failed.
        assertThat(run.out()).as(run.err()).contains("PASS: ").doesNotContain("FAIL: ");
        assertThat(run.status()).as("isa-debug-exit's (0 << 1) | 1: the test's exit(0)\n" + run.out() + run.err()).isEqualTo(1);
    }
}
