package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jhyve.vm.DeviceConfigException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What may be a disk image: regular files and block devices; sizes without a whole sector refused, partial tails named. */
class ImageFilesTest {
    @TempDir
    Path dir;

    @Test
    void characterDevicesFifosAndDirectoriesAreRefusedBeforeTheyAreOpened() throws Exception {
        assertThat(ImageFiles.kind(Path.of("/dev/null"))).isEqualTo(ImageFiles.Kind.CHARACTER_DEVICE);
        assertThatThrownBy(() -> FileBlockBackend.open("/dev/null", false, false, false)).isInstanceOf(IOException.class)
                .hasMessage("/dev/null is a character device, not a disk image: give a regular file or a block device");
        assertThatThrownBy(() -> ImageFiles.check("virtio-blk", "/dev/zero", true, false, 512, false)).isInstanceOf(DeviceConfigException.class)
                .hasMessage("virtio-blk: /dev/zero is a character device, not a disk image: give a regular file or a block device");
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo is not available");
        // Opening a FIFO for reading would block until a writer comes: it must be refused without opening it.
        assertThatThrownBy(() -> FileBlockBackend.open(fifo.toString(), true, false, false))
                .hasMessage(fifo + " is a FIFO, not a disk image: give a regular file or a block device");
        assertThatThrownBy(() -> ImageFiles.check("ahci-hd", dir.toString(), true, false, 512, false)).hasMessage("ahci-hd: " + dir + " is a directory");
        assertThatThrownBy(() -> ImageFiles.check("ahci-hd", dir.resolve("none").toString(), true, false, 512, false))
                .hasMessage("ahci-hd: " + dir.resolve("none") + ": no such file");
    }

    @Test
    void blockDevicesAreDisks() {
        Path loop = Path.of("/dev/loop0");
        Assumptions.assumeTrue(Files.exists(loop), "no /dev/loop0 to look at");
        assertThat(ImageFiles.kind(loop)).isEqualTo(ImageFiles.Kind.BLOCK_DEVICE);
        assertThat(ImageFiles.Kind.BLOCK_DEVICE.isDisk()).isTrue();
    }

    @Test
    void anImageWithoutAWholeSectorIsRefusedAndAPartialLastSectorIsNamed() throws Exception {
        Path empty = Files.write(dir.resolve("empty.img"), new byte[0]);
        Path tiny = Files.write(dir.resolve("tiny.img"), new byte[300]);
        Path odd = Files.write(dir.resolve("odd.img"), new byte[2 * 4096 + 300]);
        assertThatThrownBy(() -> ImageFiles.check("virtio-blk", empty.toString(), false, false, 512, false))
                .hasMessage("virtio-blk: " + empty + " is empty (0 bytes): a disk needs at least one 512-byte sector (truncate -s SIZE makes one)");
        ImageFiles.check("ahci-cd", empty.toString(), true, false, 2048, true); // a CD-ROM drive without a disc
        assertThatThrownBy(() -> ImageFiles.check("ahci-hd", tiny.toString(), false, false, 512, false))
                .hasMessage("ahci-hd: " + tiny + " is 300 bytes, less than one 512-byte sector");
        ImageFiles.check("virtio-blk", odd.toString(), false, false, 512, false);
        assertThat(ImageFiles.checkSize(odd.toString(), Files.size(odd), 512, false)).contains(odd
                + ": the last 300 bytes are not a whole 512-byte sector and are not visible to the guest (it sees 16 sectors)");
        assertThat(ImageFiles.checkSize(odd.toString(), Files.size(odd), 4096, false)).contains(odd
                + ": the last 300 bytes are not a whole 4096-byte sector and are not visible to the guest (it sees 2 sectors)");
        assertThat(ImageFiles.checkSize(odd.toString(), 8192, 4096, false)).isEmpty();
        assertThatThrownBy(() -> ImageFiles.check("virtio-blk", odd.toString(), false, true, 512, false))
                .hasMessage("virtio-blk: " + odd + ": nocache (O_DIRECT) needs a size that is a multiple of 4096 bytes, not 8492");
    }
}
