package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jhyve command's ahead-of-time cache (scripts/jhyve, scripts/lib/java.sh), end to end on the launcher
 * itself: the first run that boots a VM records, the next makes the cache in the background, the runs after
 * use it (the JVM maps the file: /proc/PID/maps says so); a cache that is not the size it was made with is
 * ignored with one line and made again; a jar that changes gets a cache of its own. Each run is the
 * start-probe guest on KVM. The jar is made here from cli's classes with the test's class path in its
 * manifest (cli's own jar is packaged after its tests), in a cache directory of the test's own.
 */
@Timeout(300)
class AotCacheLauncherTest {
    private static final Path LAUNCHER = Path.of("..", "scripts", "jhyve").toAbsolutePath().normalize();

    @TempDir Path dir;
    private Path jar;
    private Path aot;
    private Path probe;

    @BeforeEach
    void setUp() throws IOException {
        GuestImages.assumeKvm();
        probe = GuestImages.extract(dir, "start-probe.elf");
        jar = dir.resolve("jhyve.jar");
        writeJar(jar);
        aot = dir.resolve("cache").resolve("aot");
    }

    @Test
    void recordsThenMakesThenUsesTheCacheAndRemakesItWhenUnusableOrTheJarChanges() throws Exception {
        Run first = run("");
        assertThat(first.status).as(first.err).isEqualTo(1);
        assertThat(first.err).contains("AOTConfiguration recorded");
        assertThat(files(".aotconf")).hasSize(1);
        assertThat(files(".aot")).isEmpty();

        Run second = run("");
        assertThat(second.status).as(second.err).isEqualTo(1);
        assertThat(second.err).doesNotContain("AOTConfiguration recorded");
        Path cache = awaitCache();
        assertThat(files(".aotconf")).isEmpty();

        // Used: the running JVM has the file mapped.
        assertThat(mapsWhileRunning()).contains(cache.toString());

        // Not the size it was made with: one line, the run goes on without it, the next runs make it again.
        try (var ch = Files.newByteChannel(cache, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(cache) - 4096);
        }
        Run truncated = run("");
        assertThat(truncated.status).as(truncated.err).isEqualTo(1);
        assertThat(truncated.err.lines().filter(l -> l.contains("AOT")).toList()).hasSize(2)
                .anySatisfy(l -> assertThat(l).startsWith("jhyve: ignoring the AOT cache " + cache))
                .anySatisfy(l -> assertThat(l).contains("AOTConfiguration recorded"));
        assertThat(cache).doesNotExist();
        run("");
        assertThat(awaitCache()).isEqualTo(cache);

        // A jar that changes (its time stamp is part of the key) gets a cache of its own, recorded afresh.
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(10)));
        Run changed = run("");
        assertThat(changed.status).as(changed.err).isEqualTo(1);
        assertThat(changed.err).contains("AOTConfiguration recorded");
        assertThat(files(".aotconf")).singleElement().satisfies(c -> assertThat(c.getFileName().toString()).doesNotStartWith(
                cache.getFileName().toString().replace(".aot", "")));
    }

    /** Starts at once with no cache (20 VMs launched together on a fresh machine): one records, none fails. */
    @Test
    void concurrentFirstStartsRecordOnce() throws Exception {
        List<Process> starts = new ArrayList<>();
        for (int i = 0; i < 4; i++) starts.add(launcher("").start());
        int recorded = 0;
        for (Process p : starts) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(err).isEqualTo(1);
            assertThat(out).contains("start-probe: ready");
            if (err.contains("AOTConfiguration recorded")) recorded++;
        }
        // One recorded; the others ran without (a slow starter may have found the recording done and begun the cache).
        assertThat(recorded).isEqualTo(1);
        awaitCacheOrConfig();
    }

    private record Run(int status, String out, String err) {}

    /** scripts/jhyve on the probe with the PVH command line {@code cmdline}, in this test's cache. */
    private Run run(String cmdline) throws IOException, InterruptedException {
        Process p = launcher(cmdline).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("start-probe: ready");
        return new Run(p.exitValue(), out, err);
    }

    /** /proc/PID/maps of a jhyve whose guest has started and stays. */
    private String mapsWhileRunning() throws Exception {
        Process p = launcher("stay").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.contains("start-probe: ready")) { }
            assertThat(line).isNotNull();
            return Files.readString(Path.of("/proc", Long.toString(p.pid()), "maps"));
        } finally {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private ProcessBuilder launcher(String cmdline) {
        ProcessBuilder b = new ProcessBuilder(LAUNCHER.toString(), "-m", "64M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + probe + ",," + cmdline).redirectInput(new File("/dev/null"));
        Map<String, String> env = b.environment();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("JHYVE_JAR", jar.toString());
        env.put("JHYVE_CACHE", dir.resolve("cache").toString());
        env.remove("JHYVE_JAVA_OPTS");
        env.remove("JHYVE_AOT");
        return b;
    }

    /** The recording is whole: a configuration is there, or the cache made from it. */
    private void awaitCacheOrConfig() throws Exception {
        if (files(".aotconf").size() == 1) return;
        awaitCache();
    }

    private Path awaitCache() throws Exception {
        Instant until = Instant.now().plus(Duration.ofSeconds(90));
        while (Instant.now().isBefore(until)) {
            List<Path> caches = files(".aot");
            if (caches.size() == 1 && Files.exists(Path.of(caches.getFirst() + ".size"))) return caches.getFirst();
            Thread.sleep(200);
        }
        throw new AssertionError("no AOT cache made in 90 s; " + aot + " holds " + files(""));
    }

    private List<Path> files(String suffix) throws IOException {
        if (!Files.isDirectory(aot)) return List.of();
        try (Stream<Path> s = Files.list(aot)) {
            return s.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    /** A runnable jar of cli's classes whose manifest names every jar of the test's class path. */
    private static void writeJar(Path jar) throws IOException {
        Manifest manifest = new Manifest();
        Attributes a = manifest.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(Attributes.Name.MAIN_CLASS, Main.class.getName());
        List<String> jars = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.endsWith(".jar")) jars.add(Path.of(entry).toAbsolutePath().toUri().getRawPath());
        }
        a.put(Attributes.Name.CLASS_PATH, String.join(" ", jars));
        Path classes = Path.of("target", "classes").toAbsolutePath();
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest);
             Stream<Path> all = Files.walk(classes)) {
            for (Path f : all.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }
}
