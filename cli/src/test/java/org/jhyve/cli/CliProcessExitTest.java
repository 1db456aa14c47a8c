package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exit statuses as the shell sees them, from a real {@code jhyve} process: what would have been the JVM's
 * status 1 ("the guest powered off") for an uncaught exception, a hang, or a guest started from a broken
 * image, is status 4 and one line on stderr. Each run is bounded in time: a jhyve that hangs is killed and
 * the test fails.
 */
class CliProcessExitTest {
    private static final long MIB = 1L << 20;
    private static final int SETUP = 5 * 512;

    @TempDir Path dir;

    private record Exit(int status, String err) {}

    /** jhyve in its own JVM with {@code jvmOptions}, stdin from /dev/null, killed if it has not exited within 30 s. */
    private Exit jhyve(List<String> jvmOptions, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Path err = dir.resolve("stderr");
        Process p = new ProcessBuilder(command).redirectInput(new File("/dev/null")).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile()).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("jhyve " + Arrays.toString(args) + " did not exit within 30 s; stderr: " + Files.readString(err));
        }
        return new Exit(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void anAtFileArgumentIsNotReadAsMoreArguments() throws Exception {
        Exit exit = jhyve(List.of(), "vm1", "@/dev/zero"); // picocli read it until the heap ran out (vm1: bhyve's vmname comes first)
        assertThat(exit.status()).isEqualTo(4);
        assertThat(exit.err()).isEqualTo("jhyve: @/dev/zero: unexpected argument\n");
    }

    @Test
    void runningOutOfJavaHeapIsStatusFourNotOne() throws Exception {
        GuestImages.assumeKvm();
        Path kernel = dir.resolve("huge-kernel");
        try (RandomAccessFile f = new RandomAccessFile(kernel.toFile(), "rw")) {
            f.setLength(512 * MIB); // sparse: fits guest RAM, not a 64 MiB heap
        }
        Exit exit = jhyve(List.of("-Xmx64m"), "--cpu-template", "host", "-m", "768M", "-f", "kexec," + kernel);
        assertThat(exit.status()).as(exit.err()).isEqualTo(4);
        assertThat(lastLine(exit.err())).isEqualTo("jhyve: out of memory: Java heap space (java -Xmx sets the heap's size)");
        assertThat(exit.err()).doesNotContain("Exception in thread");
    }

    /**
     * A bzImage whose 64-bit entry is {@code ud2} (a guest started from it triple-faults: status 3), with
     * syssize saying 4096 bytes of protected-mode kernel and the file cut after {@code kept} of them.
     */
    private Path cutBzImage(int kept) throws IOException {
        byte[] image = new byte[SETUP + 4096];
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1f1, (byte) 4).putInt(0x1f4, 4096 / 16).putShort(0x1fe, (short) 0xaa55);
        b.put(0x200, (byte) 0xeb).put(0x201, (byte) 0x66).putInt(0x202, 0x53726448).putShort(0x206, (short) 0x020f);
        b.put(0x211, (byte) 0x01).putInt(0x22c, 0x7fffffff).putInt(0x230, 0x200000).putShort(0x236, (short) 0x1)
                .putInt(0x238, 2047).putLong(0x258, 0x1000000).putInt(0x260, 1 << 20);
        image[SETUP + 0x200] = 0x0f; // ud2 at the 64-bit entry, load address + 0x200
        image[SETUP + 0x201] = 0x0b;
        return Files.write(dir.resolve("bzImage-cut"), Arrays.copyOf(image, SETUP + kept));
    }

    @Test
    void aBzImageCutShortIsOneLineAndStatusFourNotATripleFault() throws Exception {
        GuestImages.assumeKvm();
        Path kernel = cutBzImage(2048);
        Exit exit = jhyve(List.of(), "--cpu-template", "host", "-m", "64M", "-f", "kexec," + kernel);
        assertThat(exit.status()).as(exit.err()).isEqualTo(4);
        assertThat(exit.err()).isEqualTo("jhyve: -f kexec," + kernel + ": " + kernel
                + ": bzImage is truncated: its protected-mode kernel is 2048 bytes, its header (syssize) says 4096\n");
    }

    @Test
    void aRealKernelCutShortIsRefusedBeforeItBoots() throws Exception {
        GuestImages.assumeKvm();
        // JHYVE_GUEST_KERNEL is the directory scripts/build-guest-kernel prints (vmlinux and bzImage in it).
        String env = System.getenv("JHYVE_GUEST_KERNEL");
        Assumptions.assumeTrue(env != null && Files.isRegularFile(Path.of(env, "bzImage")),
                "real-kernel check skipped: JHYVE_GUEST_KERNEL is not set to a kernel directory (scripts/build-guest-kernel builds one)");
        Path bzImage = Path.of(env, "bzImage");
        byte[] real = Files.readAllBytes(bzImage);
        Assumptions.assumeTrue(real.length > 0x206 && new String(real, 0x202, 4, StandardCharsets.US_ASCII).equals("HdrS"),
                "real-kernel check skipped: JHYVE_GUEST_KERNEL is not a bzImage");
        Path kernel = Files.write(dir.resolve("vmlinuz-cut"), Arrays.copyOf(real, real.length / 2));
        Exit exit = jhyve(List.of(), "--cpu-template", "host", "-m", "256M", "-f", "kexec," + kernel + ",,console=ttyS0");
        assertThat(exit.status()).as(exit.err()).isEqualTo(4);
        assertThat(exit.err()).startsWith("jhyve: -f kexec," + kernel + ",,console=ttyS0: " + kernel + ": bzImage is truncated: ").hasLineCount(1);
    }
}
