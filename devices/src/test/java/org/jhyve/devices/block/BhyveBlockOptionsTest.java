package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jhyve.devices.virtio.VirtioBlockOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * bhyve's block options reach open(2) with bhyve's meanings: nocache is O_DIRECT, direct and sync are O_SYNC
 * (not O_DSYNC alone). Read back from /proc/self/fdinfo, the kernel's own record of the open file's flags.
 */
class BhyveBlockOptionsTest {
    static final int O_DIRECT = 040000, O_SYNC = 04010000, O_DSYNC = 010000;

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"'' | false | false", ",nocache | true | false", ",direct | false | true", ",sync | false | true", ",nocache,direct | true | true"})
    void optionsBecomeOpenFlags(String options, boolean direct, boolean sync) throws IOException {
        Path img = Files.write(dir.resolve("disk.img"), new byte[64 * 1024]);
        VirtioBlockOptions o = VirtioBlockOptions.parse(img + options);
        FileBlockBackend disk;
        try {
            disk = FileBlockBackend.open(o.path(), o.readOnly(), o.direct(), o.sync());
        } catch (HostIoException e) {
            Assumptions.assumeTrue(e.errno() != 22, "O_DIRECT is not supported by the file system under " + dir);
            throw e;
        }
        try (disk) {
            int flags = openFlags(img);
            assertThat((flags & O_DIRECT) != 0).as("O_DIRECT for " + options).isEqualTo(direct);
            assertThat((flags & O_SYNC) == O_SYNC).as("O_SYNC for " + options).isEqualTo(sync);
            if (!sync) assertThat(flags & O_DSYNC).as("no O_DSYNC either").isZero();
        }
    }

    /** The flags of this process's descriptor open on {@code file}, octal in fdinfo's "flags:" line. */
    private static int openFlags(Path file) throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                Path target;
                try {
                    target = Files.readSymbolicLink(fd);
                } catch (IOException e) {
                    continue; // the directory's own descriptor, gone by now
                }
                if (!target.equals(file.toRealPath())) continue;
                for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo", fd.getFileName().toString()))) {
                    if (line.startsWith("flags:")) return Integer.parseInt(line.substring(6).strip(), 8);
                }
            }
        }
        throw new AssertionError("no descriptor open on " + file);
    }
}
