package org.jhyve.cli;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;
import org.jhyve.config.ConfigTree;

/**
 * What the guest boots: xhyve's {@code -f kexec,KERNEL,INITRD,CMDLINE} (INITRD and CMDLINE may be empty, CMDLINE
 * may hold commas), as jhyve's keys {@code jhyve.kexec.kernel}, {@code jhyve.kexec.initrd}, {@code jhyve.kexec.cmdline}.
 */
record FirmwareSpec(Path kernel, Optional<Path> initrd, String cmdline) {
    static final String KERNEL = "jhyve.kexec.kernel", INITRD = "jhyve.kexec.initrd", CMDLINE = "jhyve.kexec.cmdline";

    /** The flag's keys; only its form is checked here, the files when the tree is read. */
    static void translate(String text, ConfigTree.Builder b) throws UsageException {
        String flag = "-f " + text;
        String[] parts = text.split(",", 4);
        if (parts[0].equals("fbsd")) throw new UsageException(flag, "the FreeBSD loader (fbsd) is not supported");
        if (!parts[0].equals("kexec")) throw new UsageException(flag, "unknown firmware '" + parts[0] + "' (kexec,KERNEL,INITRD,CMDLINE)");
        if (parts.length < 2 || parts[1].isEmpty()) throw new UsageException(flag, "kexec needs a kernel: kexec,KERNEL,INITRD,CMDLINE");
        KeyErrors.set(b, KERNEL, parts[1], flag);
        if (parts.length >= 3 && !parts[2].isEmpty()) KeyErrors.set(b, INITRD, parts[2], flag);
        if (parts.length == 4 && !parts[3].isEmpty()) KeyErrors.set(b, CMDLINE, parts[3], flag);
    }

    /** The flag alone, as the tree it makes would give it. */
    static FirmwareSpec parse(String text) throws UsageException {
        ConfigTree.Builder b = ConfigTree.builder();
        translate(text, b);
        return read(b.build());
    }

    static FirmwareSpec read(ConfigTree tree) throws UsageException {
        Optional<String> kernel = tree.value(KERNEL);
        if (kernel.isEmpty()) throw new UsageException("-f", "missing: say what to boot (-f kexec,KERNEL,INITRD,CMDLINE)");
        Path k = readable(KeyErrors.origin(tree, KERNEL), "kernel", kernel.get());
        Optional<String> initrd = tree.value(INITRD).filter(i -> !i.isEmpty());
        Optional<Path> i = initrd.isPresent() ? Optional.of(readable(KeyErrors.origin(tree, INITRD), "initrd", initrd.get())) : Optional.empty();
        return new FirmwareSpec(k, i, tree.value(CMDLINE).orElse(""));
    }

    private static Path readable(String flag, String what, String name) throws UsageException {
        Path p;
        try {
            p = Path.of(name);
        } catch (InvalidPathException e) {
            throw new UsageException(flag, what + " '" + name.replace("\0", "\\0") + "' is not a valid path: " + e.getReason());
        }
        if (!Files.exists(p)) throw new UsageException(flag, what + " " + name + " does not exist");
        // Not a device or FIFO either: /dev/zero never ends, and a FIFO with no writer blocks the open for good.
        if (!Files.isRegularFile(p)) throw new UsageException(flag, what + " " + name + " is not a file");
        if (!Files.isReadable(p)) throw new UsageException(flag, what + " " + name + " is not readable");
        return p;
    }
}
