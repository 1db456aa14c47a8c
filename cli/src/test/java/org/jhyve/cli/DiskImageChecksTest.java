package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What the command line takes as a disk image: a regular file or a block device with at least one whole
 * sector. Anything else is one line naming the -s flag and exit status 4, before the hypervisor is touched;
 * bytes after the last whole sector are accepted with a warning saying they are not the guest's.
 */
@Timeout(120)
class DiskImageChecksTest {
    @TempDir
    static Path dir;
    static String kernel;

    @BeforeAll
    static void files() throws Exception {
        kernel = Files.writeString(dir.resolve("kernel"), "any file: validation comes first").toString();
        Files.write(dir.resolve("empty.img"), new byte[0]);
        Files.write(dir.resolve("tiny.img"), new byte[300]);
        Files.write(dir.resolve("odd.img"), new byte[8192 + 300]);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "4,virtio-blk,/dev/null       | virtio-blk: /dev/null is a character device, not a disk image: give a regular file or a block device",
            "4,ahci-hd,/dev/zero          | ahci-hd: /dev/zero is a character device, not a disk image: give a regular file or a block device",
            "4,ahci-cd,/dev/null          | ahci-cd: /dev/null is a character device, not a disk image: give a regular file or a block device",
            "4,virtio-blk,@D/empty.img   | virtio-blk: @D/empty.img is empty (0 bytes): a disk needs at least one 512-byte sector (truncate -s SIZE makes one)",
            "4,ahci,hd:@D/empty.img      | ahci-hd: @D/empty.img is empty (0 bytes): a disk needs at least one 512-byte sector (truncate -s SIZE makes one)",
            "4,virtio-blk,@D/tiny.img    | virtio-blk: @D/tiny.img is 300 bytes, less than one 512-byte sector",
            "4,virtio-blk,@D/odd.img,sectorsize=4096,nocache | virtio-blk: @D/odd.img: nocache (O_DIRECT) needs a size that is a multiple of 4096 bytes, not 8492",
    })
    void whatCannotBeADiskIsOneLineNamingTheFlagAndStatus4(String slot, String message) {
        String s = slot.replace("@D", dir.toString());
        CliRun run = CliRun.of("-s", s, "-f", "kexec," + kernel);
        assertThat(run.status()).isEqualTo(4);
        assertThat(run.err()).isEqualTo("jhyve: -s " + s + ": " + message.replace("@D", dir.toString()) + System.lineSeparator());
        assertThat(run.out()).isEmpty();
    }

    @Test
    void anEmptyCdromImageIsADriveWithoutADisc() {
        // Passes the image check and fails only later, at the kernel file, which is not an ELF.
        CliRun run = CliRun.of("-s", "4,ahci-cd," + dir.resolve("empty.img"), "-f", "kexec," + kernel);
        assertThat(run.err()).doesNotContain("empty.img");
    }

    @Test
    void bytesAfterTheLastWholeSectorAreNamedInAWarningAndTheGuestSeesTheWholeSectors() throws Exception {
        GuestImages.assumeKvm();
        byte[] image = new byte[(1 << 20) + 300];
        for (int i = 0; i < image.length; i++) image[i] = (byte) (i * 7);
        Path img = Files.write(dir.resolve("partial.img"), image);
        JhyveProcess run = JhyveProcess.run("-m", "64M", "-s", "0:0,hostbridge", "-s", "4,virtio-blk," + img, "-s", "31,lpc",
                "-l", "com1,stdio", "-f", "kexec," + GuestImages.extract(dir, "virtio-blk.elf"));
        assertThat(run.err()).contains("virtio-blk@0:4:0: " + img
                + ": the last 300 bytes are not a whole 512-byte sector and are not visible to the guest (it sees 2048 sectors)");
        assertThat(run.out()).contains("capacity=0000000000000800\r\n", "write status=0", "done");
        assertThat(run.status()).as("powered off").isEqualTo(1);
        byte[] after = Files.readAllBytes(img);
        assertThat(after).hasSize(image.length);
        assertThat(java.util.Arrays.copyOfRange(after, 1 << 20, after.length)).as("the tail is left alone")
                .isEqualTo(java.util.Arrays.copyOfRange(image, 1 << 20, image.length));
    }
}
