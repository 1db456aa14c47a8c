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

    @Test
    void kvmUnitTestsRealmodeRunsItsTestsOnJhyve() throws Exception {
        Path flat = Path.of(System.getProperty("user.dir")).resolveSibling("target/kvm-unit-tests/src/x86/realmode.flat");
        Assumptions.assumeTrue(Files.isRegularFile(flat), () -> "kvm-unit-tests not built: no " + flat + " (run scripts/kvm-unit-tests)");
        JhyveProcess run = JhyveProcess.run("-m", "256M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "-l", "pc-testdev", "-l", "isa-debug-exit", "-l", "fwcfg,qemu", "-f", "kexec," + flat);
        long passed = Pattern.compile("^PASS: ", Pattern.MULTILINE).matcher(run.out()).results().count();
        // It booted through the Multiboot loader, switched itself to real mode and reported there on COM1.
        assertThat(run.out()).contains("PASS: pio 1").doesNotContain("FAIL: ");
        assertThat(passed).as(run.out()).isGreaterThanOrEqualTo(60);
    }
}
