package org.jhyve.cli;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The passt processes a jhyve started, found through /proc as a user would with ps. */
final class PasstProcesses {
    private PasstProcesses() {}

    static boolean installed() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) if (!d.isEmpty() && Files.isExecutable(Path.of(d, "passt"))) return true;
        return false;
    }

    /** The children of {@code pid} whose command name starts with "passt" (passt execs passt.avx2 where it can). */
    static List<Long> childrenOf(long pid) throws Exception {
        List<Long> found = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String children;
                try {
                    children = Files.readString(t.resolve("children")).strip();
                } catch (NoSuchFileException e) {
                    continue;
                }
                if (children.isEmpty()) continue;
                for (String c : children.split(" ")) {
                    try {
                        if (Files.readString(Path.of("/proc", c, "comm")).startsWith("passt")) found.add(Long.parseLong(c));
                    } catch (NoSuchFileException e) {
                        // ended while we looked
                    }
                }
            }
        }
        return found;
    }

    /** Whether {@code pid} still runs (not gone, not a zombie nobody has reaped yet). */
    static boolean running(long pid) throws Exception {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (NoSuchFileException e) {
            return false;
        }
    }
}
