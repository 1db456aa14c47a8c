package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jhyve -g PORT} driven by real gdb in batch mode, as a user would: the guest waits for gdb, then
 * breakpoints, single steps, registers, memory, Ctrl-C and detach, on the guests module's {@code countdown.elf}
 * and, for the SSE registers, {@code sse.elf} (their code layouts are fixed: see countdown.s and sse.s). Skipped
 * without /dev/kvm, and the gdb ones without gdb (Debian's package "gdb", which scripts/test installs where it can).
 */
@Timeout(180)
class GdbStubTest {
    /** countdown.s: {@code dec %ebx} (ff cb) at the loop's top, then {@code mov %ebx,counter(%rip)} (89 1d ...). */
    private static final long START = 0x100000;
    private static final long LOOP = 0x100005;
    private static final long AFTER_DEC = 0x100007;
    private static final long JNZ = 0x10000d;
    /** sse.s: at SSE_LOADED %xmm1 and MXCSR hold the program's values; by SSE_STORED it has stored both. */
    private static final long SSE_LOADED = 0x10001b;
    private static final long SSE_STORED = 0x10002a;

    @TempDir
    Path dir;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    private static void assumeGdb() {
        Assumptions.assumeTrue(gdb().isPresent(), "GDB stub test skipped: gdb is not installed (apt-get install gdb)");
    }

    @Test
    void gdbBreaksStepsReadsMemoryAndLetsTheGuestPowerOff() throws Exception {
        assumeGdb();
        Path program = GuestImages.extract(dir, "countdown.elf");
        int port = freePort();
        Path err = dir.resolve("jhyve.err");
        Process jhyve = JhyveProcess.start(err, "-m", "64M", "-c", "2", "-s", "0:0,hostbridge", "-s", "31,lpc",
                "-l", "com1,stdio", "-g", Integer.toString(port), "-f", "kexec," + program);
        try {
            awaitWaitingLine(jhyve, err, port);
            String out = runGdb(port, null,
                    "printf \"HELD rip=%lx\\n\", $rip",
                    "info threads",
                    String.format("break *0x%x", LOOP),
                    "continue",
                    "info registers rip",
                    "printf \"HIT1 rip=%lx rbx=%lx\\n\", $rip, $rbx",
                    String.format("x/4xb 0x%x", LOOP),
                    "stepi",
                    "printf \"STEP rip=%lx rbx=%lx\\n\", $rip, $rbx",
                    "continue",
                    "printf \"HIT2 rip=%lx rbx=%lx\\n\", $rip, $rbx",
                    "delete",
                    String.format("hbreak *0x%x", JNZ),
                    "continue",
                    "printf \"HWBP rip=%lx rbx=%lx\\n\", $rip, $rbx",
                    "delete",
                    "continue");
            assertThat(out).as(out)
                    .contains(String.format("HELD rip=%x", START))
                    .containsPattern("Thread 1 .*vCPU 0").containsPattern("Thread 2 .*vCPU 1")
                    .contains(String.format("Breakpoint 1, 0x%016x in ?? ()", LOOP))
                    .containsPattern(String.format("rip +0x%x +0x%x", LOOP, LOOP))
                    .contains(String.format("HIT1 rip=%x rbx=3", LOOP))
                    .contains(String.format("0x%x:\t0xff\t0xcb\t0x89\t0x1d", LOOP))
                    .contains(String.format("STEP rip=%x rbx=2", AFTER_DEC))
                    .contains(String.format("HIT2 rip=%x rbx=2", LOOP))
                    .contains(String.format("HWBP rip=%x rbx=1", JNZ))
                    .containsPattern("\\[Inferior 1 \\(.*\\) exited with code 01\\]");
            assertThat(jhyve.waitFor(30, TimeUnit.SECONDS)).as("jhyve ended after the guest powered off").isTrue();
            assertThat(jhyve.exitValue()).as(Files.readString(err)).isEqualTo(1);
            assertThat(new String(jhyve.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("countdown done\r\n");
        } finally {
            jhyve.destroyForcibly();
        }
    }

    @Test
    void gdbReadsAndWritesXmmRegistersAndMxcsr() throws Exception {
        assumeGdb();
        Path program = GuestImages.extract(dir, "sse.elf");
        int port = freePort();
        Path err = dir.resolve("sse.err");
        Process jhyve = JhyveProcess.start(err, "-s", "31,lpc", "-l", "com1,stdio", "-g", Integer.toString(port),
                "-f", "kexec," + program);
        try {
            awaitWaitingLine(jhyve, err, port);
            String out = runGdb(port, null,
                    String.format("break *0x%x", SSE_LOADED),
                    "continue",
                    "echo LOADED\\n",
                    "p/x $xmm1.v4_int32",
                    "printf \"MXCSR=%x\\n\", $mxcsr",
                    "info registers xmm1 mxcsr",
                    "set $xmm1.v4_int32[0] = 0xcafef00d",
                    "set $mxcsr = 0x9f80",
                    "delete",
                    String.format("break *0x%x", SSE_STORED),
                    "continue",
                    "echo STORED\\n", // read again from the vCPU: gdb forgets its register values when the target runs
                    "p/x $xmm1.v4_int32",
                    "printf \"MXCSR=%x\\n\", $mxcsr",
                    "delete",
                    "continue");
            assertThat(out).as(out)
                    .contains(String.format("Breakpoint 1, 0x%016x in ?? ()", SSE_LOADED))
                    .containsSubsequence("LOADED", "= {0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00}", "MXCSR=7f80",
                            "uint128 = 0xddeeff0099aabbcc5566778811223344", "[ IM DM ZM OM UM PM ]",
                            "STORED", "= {0xcafef00d, 0x55667788, 0x99aabbcc, 0xddeeff00}", "MXCSR=9f80")
                    .containsPattern("\\[Inferior 1 \\(.*\\) exited with code 01\\]");
            assertThat(jhyve.waitFor(30, TimeUnit.SECONDS)).as("jhyve ended after the guest powered off").isTrue();
            assertThat(new String(jhyve.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .as("what the guest stored after gdb's writes")
                    .isEqualTo("xmm1=cafef00d 55667788 99aabbcc ddeeff00 mxcsr=00009f80\r\n");
        } finally {
            jhyve.destroyForcibly();
        }
    }

    @Test
    void ctrlCInGdbStopsARunningGuestAndDetachLetsItRunOn() throws Exception {
        assumeGdb();
        Path forever = GuestImages.bootSector(dir, "forever.bin", 0xeb, 0xfe); // jmp $ at 0000:7c00, no exits at all
        int port = freePort();
        Path err = dir.resolve("forever.err");
        Process jhyve = JhyveProcess.start(err, "-g", Integer.toString(port), "-f", "kexec," + forever);
        try {
            awaitWaitingLine(jhyve, err, port);
            Path resuming = dir.resolve("resuming");
            String out = runGdb(port, resuming,
                    "shell touch " + resuming,
                    "continue",
                    "printf \"STOPPED rip=%lx\\n\", $rip",
                    String.format("x/2xb 0x%x", 0x7c00),
                    "detach");
            assertThat(out).as(out)
                    .contains("received signal SIGINT")
                    .contains("STOPPED rip=7c00")
                    .contains("0x7c00:\t0xeb\t0xfe")
                    .contains("detached");
            Thread.sleep(500);
            assertThat(jhyve.isAlive()).as("the guest runs on after gdb detached").isTrue();
            jhyve.destroy(); // SIGTERM: no ACPI driver in a boot sector, so stopped at once with status 1
            assertThat(jhyve.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(jhyve.exitValue()).isEqualTo(1);
        } finally {
            jhyve.destroyForcibly();
        }
    }

    @Test
    void gdbAttachesThroughAUnixSocketOnlyItsOwnerMayOpen() throws Exception {
        assumeGdb();
        Path program = GuestImages.extract(dir, "countdown.elf");
        Path socket = dir.resolve("gdb.sock");
        Path err = dir.resolve("unix.err");
        Process jhyve = JhyveProcess.start(err, "-s", "31,lpc", "-l", "com1,stdio", "-g", "unix:" + socket, "-f", "kexec," + program);
        try {
            awaitLine(jhyve, err, "jhyve: waiting for gdb on " + socket + " (target remote " + socket + "); the guest starts when gdb continues");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            String out = runGdb(socket.toString(), null,
                    "printf \"HELD rip=%lx\\n\", $rip",
                    String.format("break *0x%x", LOOP),
                    "continue",
                    "printf \"HIT rip=%lx rbx=%lx\\n\", $rip, $rbx",
                    "delete",
                    "continue");
            assertThat(out).as(out)
                    .contains(String.format("HELD rip=%x", START))
                    .contains(String.format("HIT rip=%x rbx=3", LOOP))
                    .containsPattern("\\[Inferior 1 \\(.*\\) exited with code 01\\]");
            assertThat(jhyve.waitFor(30, TimeUnit.SECONDS)).as("jhyve ended after the guest powered off").isTrue();
            assertThat(jhyve.exitValue()).as(Files.readString(err)).isEqualTo(1);
            assertThat(socket).as("the socket file is removed at the end").doesNotExist();
        } finally {
            jhyve.destroyForcibly();
        }
    }

    @Test
    void aFileAtTheGdbSocketPathIsKeptAndTheRunRefusedInOneLine() throws Exception {
        Path program = GuestImages.extract(dir, "countdown.elf");
        Path file = Files.writeString(dir.resolve("notes.txt"), "keep me");
        JhyveProcess run = JhyveProcess.run("-g", "unix:" + file, "-f", "kexec," + program);
        assertThat(run.status()).isEqualTo(4);
        assertThat(run.err()).isEqualTo("jhyve: gdb socket " + file + ": " + file + " exists and is not a socket (a regular file); not replacing it\n");
        assertThat(Files.readString(file)).isEqualTo("keep me");
    }

    @Test
    void aPortThatIsInUseIsOneLineAndStatusFour() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Path program = GuestImages.extract(dir, "countdown.elf");
            JhyveProcess run = JhyveProcess.run("-g", Integer.toString(taken.getLocalPort()), "-f", "kexec," + program);
            assertThat(run.status()).isEqualTo(4);
            assertThat(run.err()).startsWith("jhyve: gdb port " + taken.getLocalPort() + ": ").hasLineCount(1);
        }
    }

    // ---- helpers ----

    private static Optional<Path> gdb() {
        return Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator))
                .map(d -> Path.of(d, "gdb")).filter(Files::isExecutable).findFirst();
    }

    @Test
    void bhyvesDashGWithoutWRunsTheGuestAndGdbStopsItWhenItAttaches() throws Exception {
        assumeGdb();
        // A counter loop: inc eax; jmp back. Running before gdb, eax has counted far when gdb attaches.
        Path counting = GuestImages.bootSector(dir, "counting.bin", 0x66, 0x40, 0xeb, 0xfc);
        int port = freePort();
        Path err = dir.resolve("counting.err");
        Process jhyve = JhyveProcess.start(err, "-G", Integer.toString(port), "-f", "kexec," + counting);
        try {
            awaitLine(jhyve, err, "jhyve: gdb stub on 127.0.0.1:" + port + " (target remote :" + port + "); the guest runs; gdb stops it when it attaches");
            Thread.sleep(500);
            String out = runGdb(port, null, "printf \"EAX=%x RIP=%lx\\n\", $eax, $rip", "detach");
            assertThat(out).as(out).containsPattern("EAX=[0-9a-f]{3,} RIP=7c0[0-3]").contains("detached");
            Thread.sleep(300);
            assertThat(jhyve.isAlive()).as("the guest runs on after gdb detached").isTrue();
        } finally {
            jhyve.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** jhyve says where it waits for gdb on stderr before the guest runs. */
    private static void awaitWaitingLine(Process jhyve, Path err, int port) throws Exception {
        awaitLine(jhyve, err, "jhyve: waiting for gdb on 127.0.0.1:" + port + " (target remote :" + port + "); the guest starts when gdb continues");
    }

    private static void awaitLine(Process jhyve, Path err, String expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(err) && Files.readString(err).lines().anyMatch(expected::equals)) return;
            if (!jhyve.isAlive()) throw new AssertionError("jhyve ended (" + jhyve.exitValue() + "): " + Files.readString(err));
            Thread.sleep(50);
        }
        throw new AssertionError("jhyve did not say it waits for gdb: " + Files.readString(err));
    }

    /**
     * Runs gdb in batch mode on {@code commands} after {@code target remote :PORT}; its output (stdout and
     * stderr). When {@code interruptAfter} is given, gdb gets SIGINT (as from Ctrl-C) once that file exists
     * (a {@code shell touch} just before {@code continue}: gdb's own output into a file is block-buffered).
     */
    private String runGdb(int port, Path interruptAfter, String... commands) throws Exception {
        return runGdb(":" + port, interruptAfter, commands);
    }

    /** As {@link #runGdb(int, Path, String...)}, with {@code target remote TARGET}. */
    private String runGdb(String target, Path interruptAfter, String... commands) throws Exception {
        List<String> argv = new ArrayList<>(List.of(gdb().orElseThrow().toString(), "-batch", "-nx",
                "-ex", "set architecture i386:x86-64", "-ex", "target remote " + target));
        for (String c : commands) argv.addAll(List.of("-ex", c));
        Path log = Files.createTempFile(dir, "gdb-", ".txt");
        Process gdb = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(new File("/dev/null")).start();
        try {
            if (interruptAfter != null) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.exists(interruptAfter) && gdb.isAlive() && System.nanoTime() < deadline) Thread.sleep(50);
                Thread.sleep(500); // let gdb send the continue and the guest run a little
                new ProcessBuilder("kill", "-INT", Long.toString(gdb.pid())).inheritIO().start().waitFor();
            }
            if (!gdb.waitFor(90, TimeUnit.SECONDS)) throw new AssertionError("gdb did not finish: " + Files.readString(log));
            return Files.readString(log);
        } finally {
            gdb.destroyForcibly();
        }
    }
}
