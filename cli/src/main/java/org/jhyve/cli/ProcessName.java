package org.jhyve.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * bhyve's vmname as the process's name. Linux keeps a 15-byte name per thread; {@code /proc/self/comm} is the
 * main thread's (the JVM launcher's), which is what {@code ps -o comm}, {@code top} and {@code pgrep} show for
 * the process: "java" before, the VM's name after. {@code ps -o args} (the command line) is not changed: the JVM
 * cannot rewrite its argv. The Java main thread is renamed too, so slf4j's log lines from it carry the name.
 */
final class ProcessName {
    private ProcessName() {}

    static final Path COMM = Path.of("/proc/self/comm");

    static void set(String name) {
        Thread.currentThread().setName(name);
        try {
            // The kernel cuts it to 15 bytes itself; writing more is not an error.
            Files.writeString(COMM, name);
        } catch (IOException | UnsupportedOperationException e) {
            // Not Linux, or /proc not mounted: the name is cosmetic, the VM runs the same.
        }
    }
}
