package org.jhyve.cli;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

/** xhyve's {@code -f kexec,KERNEL,INITRD,CMDLINE}; INITRD and CMDLINE may be empty, CMDLINE may hold commas. */
record FirmwareSpec(String flag, Path kernel, Optional<Path> initrd, String cmdline) {

    static FirmwareSpec parse(String text) throws UsageException {
        String flag = "-f " + text;
        String[] parts = text.split(",", 4);
        if (parts[0].equals("fbsd")) throw new UsageException(flag, "the FreeBSD loader (fbsd) is not supported");
        if (!parts[0].equals("kexec")) throw new UsageException(flag, "unknown firmware '" + parts[0] + "' (kexec,KERNEL,INITRD,CMDLINE)");
        if (parts.length < 2 || parts[1].isEmpty()) throw new UsageException(flag, "kexec needs a kernel: kexec,KERNEL,INITRD,CMDLINE");
        Path kernel = readable(flag, "kernel", parts[1]);
        Optional<Path> initrd = parts.length >= 3 && !parts[2].isEmpty() ? Optional.of(readable(flag, "initrd", parts[2])) : Optional.empty();
        String cmdline = parts.length == 4 ? parts[3] : "";
        return new FirmwareSpec(flag, kernel, initrd, cmdline);
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
