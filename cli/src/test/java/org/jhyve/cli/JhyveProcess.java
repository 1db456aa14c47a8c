package org.jhyve.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code jhyve} as a separate process, as a user would, on the test classpath. */
record JhyveProcess(int status, String out, String err) {
    /** Starts jhyve with stdin from /dev/null and stderr into {@code errFile} (it outlives destroy()). */
    static Process start(Path errFile, String... args) throws IOException {
        return builder(args).redirectError(errFile.toFile()).start();
    }

    /** Starts jhyve with stdin from /dev/null; the caller reads its output and waits. */
    static Process start(String... args) throws IOException {
        return builder(args).start();
    }

    /** Starts jhyve behind {@code prefix} (e.g. {@code ip netns exec NAME}), stderr into {@code errFile}. */
    static Process startWithPrefix(List<String> prefix, Path errFile, String... args) throws IOException {
        ProcessBuilder b = builder(args);
        List<String> command = new ArrayList<>(prefix);
        command.addAll(b.command());
        return b.command(command).redirectError(errFile.toFile()).start();
    }

    private static ProcessBuilder builder(String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectInput(new File("/dev/null"));
    }

    static JhyveProcess run(String... args) throws IOException, InterruptedException {
        Process p = start(args);
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("jhyve did not exit within 60 s");
        }
        return new JhyveProcess(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }
}
