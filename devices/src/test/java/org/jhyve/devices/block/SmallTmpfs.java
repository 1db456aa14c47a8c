package org.jhyve.devices.block;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A tmpfs of a few KiB mounted for one test, to make the host's storage fail for real: writes that need new
 * space get ENOSPC once it is full, and a loop device over a sparse file in it loses its writeback, so an
 * fdatasync on the loop device gets EIO. Needs root with mount(8) and losetup(8): {@link #mount} skips the
 * test (a JUnit assumption, with the reason) where either is missing or refused.
 */
public final class SmallTmpfs implements AutoCloseable {
    private final Path dir;
    private final List<String> loops = new ArrayList<>();

    private SmallTmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code bytes} on {@code dir} (created if needed). */
    public static SmallTmpfs mount(Path dir, long bytes) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Result r = run("mount", "-t", "tmpfs", "-o", "size=" + bytes + ",mode=0700", "tmpfs", dir.toString());
        Assumptions.assumeTrue(r.status == 0, () -> "cannot mount a tmpfs (root needed): " + r.output.strip());
        return new SmallTmpfs(dir);
    }

    public Path path() { return dir; }

    /** Attaches a loop device to {@code backing}; returns its path (detached on close). */
    public String loopDevice(Path backing) throws IOException, InterruptedException {
        Result r = run("losetup", "-f", "--show", backing.toString());
        Assumptions.assumeTrue(r.status == 0, () -> "cannot attach a loop device: " + r.output.strip());
        String device = r.output.strip();
        loops.add(device);
        return device;
    }

    /** Fills the file system: a file of everything that is left, so the next write needing space gets ENOSPC. */
    public void fill() throws IOException {
        byte[] chunk = new byte[4096];
        try (var out = Files.newOutputStream(dir.resolve("filler"))) {
            for (;;) {
                out.write(chunk);
                out.flush();
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) throw e;
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (String loop : loops) run("losetup", "-d", loop);
        Result r = run("umount", dir.toString());
        if (r.status != 0) throw new IOException("umount " + dir + ": " + r.output.strip());
    }

    private record Result(int status, String output) {}

    private static Result run(String... command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(-1, command[0] + ": " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, command[0] + " did not finish");
        }
        return new Result(p.exitValue(), out);
    }
}
