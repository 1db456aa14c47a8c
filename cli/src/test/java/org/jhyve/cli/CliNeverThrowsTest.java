package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Main#run} returns a status for any argument vector and never throws; with a {@link Main.Launch}
 * that does not boot (what a fuzz target passes) it touches nothing the arguments name. Random vectors
 * are drawn from xhyve's flags and values chosen to break parsers (NUL, huge numbers, devices, @files).
 */
class CliNeverThrowsTest {
    private static final String[] FLAGS = {"-A", "-b", "-c", "-C", "-e", "-f", "-F", "-g", "-h", "-H", "-l", "-m", "-M", "-p",
            "-P", "-s", "-u", "-U", "-v", "-w", "-W", "-x", "-Y", "--cpu-template", "--trace", "--trace-filter", "-Q", "--", "-", "-mm",
            "-a", "-D", "-G", "-I", "-k", "-K", "-o", "-r", "-S", "--help", "--version"};
    private static final String[] VALUES = {"", "0", "1", "-1", "255", "256", "99999999999999999999", "1G", "64T", "1025K", "\u0663",
            "0:0,hostbridge", "31,lpc", "2:0,virtio-blk,/dev/null", "4,ahci,hd:/dev/null", "4,ahci-cd,/dev/zero", "4,virtio-net,tap0,mac=zz",
            "4,virtio-blk,/dev/null,sectorsize=99999999999", "4,virtio-blk,/dev/null,num-queues=-1", "256:0:0,hostbridge", "1:2:3:4,x",
            "com1,stdio", "com2,autopty", "com1,tcp=127.0.0.1:0", "com1,/dev/null", "com1,", "com3,stdio",
            "kexec", "kexec,", "kexec,/dev/zero", "kexec,/dev/null", "kexec,KERNEL", "kexec,KERNEL,/dev/zero", "kexec,KERNEL,,console=ttyS0",
            "kexec,KERNEL,FIFO", "kexec,FIFO", "kexec,a\0b", "fbsd,x", "host", "pvm", "TRACE", "pio;device=com1", "range=0xffffffffffffffffff-1",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "1-2-3-4-5", "PIDFILE", "@/dev/zero", "@/dev/stdin", "@ARGS", "help", ",,,", ":::", "\u00e9\u00df"};

    @TempDir Path dir;

    private static int run(String[] args, Main.Launch launch) {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return Main.run(args, sink, sink, launch);
    }

    @Test
    void randomArgumentVectorsAlwaysGetAStatusQuickly() throws IOException, InterruptedException {
        Path kernel = Files.writeString(dir.resolve("kernel"), "any file");
        Path fifo = dir.resolve("fifo");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(); // without mkfifo the path just does not exist
        Path pidFile = dir.resolve("jhyve.pid");
        Path trace = dir.resolve("trace.log");
        Path argsFile = Files.writeString(dir.resolve("args"), "-f kexec," + kernel);
        AtomicInteger launched = new AtomicInteger();
        Main.Launch doNotBoot = (spec, err) -> {
            launched.incrementAndGet();
            return 0;
        };
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 3000; i++) {
            List<String> argv = new ArrayList<>();
            int n = random.nextInt(9);
            for (int j = 0; j < n; j++) {
                String token = random.nextBoolean() ? FLAGS[random.nextInt(FLAGS.length)] : VALUES[random.nextInt(VALUES.length)];
                argv.add(token.replace("KERNEL", kernel.toString()).replace("FIFO", fifo.toString()).replace("PIDFILE", pidFile.toString())
                        .replace("TRACE", trace.toString()).replace("@ARGS", "@" + argsFile));
            }
            if (random.nextInt(4) == 0) argv.addAll(List.of("-f", "kexec," + kernel)); // often a VM that could boot
            String[] args = argv.toArray(String[]::new);
            int status = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> run(args, doNotBoot),
                    () -> "seed " + seed + ": " + Arrays.toString(args) + " did not return within 5 s");
            assertThat(status).as("seed %d: %s", seed, Arrays.toString(args)).isBetween(0, 4);
        }
        assertThat(launched.get()).as("some vectors were valid VMs").isPositive();
        assertThat(pidFile).as("validation writes no pid file").doesNotExist();
        assertThat(trace).as("validation creates no trace file").doesNotExist();
    }

    @Test
    void anExceptionJhyveDidNotExpectIsStatusFourAndOneLine() throws IOException {
        String kexec = "kexec," + Files.writeString(dir.resolve("kernel"), "any file");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"-f", kexec}, System.out, new PrintStream(err, true, StandardCharsets.UTF_8),
                (spec, e) -> { throw new IllegalStateException("a bug\nwith a second line"); });
        assertThat(status).isEqualTo(4);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("jhyve: unexpected java.lang.IllegalStateException: a bug (at org.jhyve.cli.CliNeverThrowsTest.")
                .hasLineCount(1);
    }

    @Test
    void runningOutOfHeapIsStatusFourAndSaysSo() throws IOException {
        String kexec = "kexec," + Files.writeString(dir.resolve("kernel"), "any file");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"-f", kexec}, System.out, new PrintStream(err, true, StandardCharsets.UTF_8),
                (spec, e) -> { throw new OutOfMemoryError("Java heap space"); });
        assertThat(status).isEqualTo(4);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .isEqualTo("jhyve: out of memory: Java heap space (java -Xmx sets the heap's size)" + System.lineSeparator());
    }
}
