package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a plain start loads (docs/performance.md, start-up): a VM from an ordinary command line, with no
 * recording, no gdb and no network, loads no picocli class (FlagScanner reads the line), no JFR machinery
 * (no event class before JFR is up: Jfr), no Netty, no GDB stub and no x86 decoder. Each of those cost tens
 * of milliseconds of a start on a 2-core host, and each is one careless reference away from coming back:
 * this is the test that says so. The run is a real one (the start-probe guest on KVM, to its power-off),
 * with the JVM's class loading log.
 */
@Timeout(120)
class StartPathClassesTest {
    @TempDir Path dir;

    private static final Pattern LOADED = Pattern.compile("^\\[[^\\]]*\\]\\[info\\]\\[class,load\\] (\\S+) source:", Pattern.MULTILINE);

    @Test
    void aPlainStartLoadsNothingItDoesNotUse() throws Exception {
        GuestImages.assumeKvm();
        Path probe = GuestImages.extract(dir, "start-probe.elf");
        Path log = dir.resolve("classes.log");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xlog:class+load=info:file=" + log, "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "-m", "64M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + probe + ",,");
        Process p = new ProcessBuilder(command).redirectInput(new File("/dev/null")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(1);
        assertThat(out).contains(">start-probe: first port write done", "start-probe: ready");

        Matcher m = LOADED.matcher(Files.readString(log));
        List<String> loaded = m.results().map(r -> r.group(1)).toList();
        assertThat(loaded).as("the log lists the classes").contains(Main.class.getName(), "org.jhyve.kvm.KvmVcpu");
        assertThat(loaded).filteredOn(c -> c.startsWith("picocli.")).as("picocli").isEmpty();
        // Jfr.started() asks jdk.jfr.FlightRecorder, and that one class is all.
        assertThat(loaded).filteredOn(c -> c.startsWith("jdk.jfr.") && !c.equals("jdk.jfr.FlightRecorder")).as("JFR").isEmpty();
        assertThat(loaded).filteredOn(c -> c.startsWith("org.jhyve.jfr.") && c.endsWith("Event")).as("jhyve's JFR events").isEmpty();
        assertThat(loaded).filteredOn(c -> c.startsWith("io.netty.")).as("Netty").isEmpty();
        assertThat(loaded).filteredOn(c -> c.startsWith("org.jhyve.gdb.") || c.equals("org.jhyve.vm.debug.GdbStub")).as("the GDB stub").isEmpty();
        assertThat(loaded).filteredOn(c -> c.startsWith("org.jhyve.x86.")).as("the x86 decoder").isEmpty();
    }
}
