package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.jhyve.boot.BootException;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kernel and initrd "files" that never end or never open: each is refused with one line, quickly, and
 * never read past guest RAM. (Before, /dev/zero was read until the heap ran out and a FIFO without a
 * writer blocked the open for good; both reach the loader through the Java API, which has no CLI checks.)
 */
class ImageFilesTest {
    private static final long MIB = 1L << 20;
    private static final Duration QUICKLY = Duration.ofSeconds(10);
    private static final String NOT_REGULAR = ": is not a regular file (a device, FIFO or socket): jhyve loads images from regular files only";

    @TempDir Path dir;
    private final GuestMemory memory = SegmentGuestMemory.onHeap(64 * MIB);

    private Path fifo() throws IOException, InterruptedException {
        Path fifo = dir.resolve("fifo");
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        } catch (IOException e) {
            Assumptions.abort("FIFO tests skipped: mkfifo is not installed (" + e.getMessage() + ")");
            throw e;
        }
        Assumptions.assumeTrue(mkfifo.waitFor() == 0, "FIFO tests skipped: mkfifo failed");
        return fifo;
    }

    private static Path pvhKernel(Path dir) throws IOException {
        return Files.write(dir.resolve("vmlinux"), TestElf.executable(0x1000000).load(0x1000000, new byte[16], 16)
                .notes(4, TestElf.pvhNote(0x1000000, 4)).build());
    }

    @Test
    void devZeroAsTheKernelIsRefusedWithoutReadingIt() {
        Path zero = Path.of("/dev/zero");
        assertTimeoutPreemptively(QUICKLY, () -> assertThatThrownBy(() -> KexecLoader.of(zero).load(memory, 1))
                .isInstanceOf(BootException.class).hasMessage(zero + NOT_REGULAR));
    }

    @Test
    void devZeroAsTheInitrdIsRefusedWithoutReadingIt() throws IOException {
        Path kernel = pvhKernel(dir);
        Path zero = Path.of("/dev/zero");
        assertTimeoutPreemptively(QUICKLY, () -> assertThatThrownBy(() -> new KexecLoader(kernel, Optional.of(zero), "").load(memory, 1))
                .isInstanceOf(BootException.class).hasMessage(zero + NOT_REGULAR));
    }

    @Test
    void aSymlinkToADeviceIsRefusedToo() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("vmlinuz"), Path.of("/dev/zero"));
        assertTimeoutPreemptively(QUICKLY, () -> assertThatThrownBy(() -> KexecLoader.of(link).load(memory, 1))
                .hasMessage(link + NOT_REGULAR));
    }

    @Test
    void aFifoWithNoWriterIsRefusedWithoutBlockingInOpen() throws Exception {
        Path fifo = fifo();
        assertTimeoutPreemptively(QUICKLY, () -> assertThatThrownBy(() -> KexecLoader.of(fifo).load(memory, 1))
                .isInstanceOf(BootException.class).hasMessage(fifo + NOT_REGULAR));
        Path kernel = pvhKernel(dir);
        assertTimeoutPreemptively(QUICKLY, () -> assertThatThrownBy(() -> new KexecLoader(kernel, Optional.of(fifo), "").load(memory, 1))
                .hasMessage(fifo + NOT_REGULAR));
    }

    @Test
    void formatDetectionOfAPathIsBoundedToo() throws Exception {
        Path zero = Path.of("/dev/zero");
        assertTimeoutPreemptively(QUICKLY, () -> assertThatThrownBy(() -> ImageFormat.detect(zero)).hasMessage(zero + NOT_REGULAR));
        Path kernel = pvhKernel(dir);
        assertThatThrownBy(() -> ImageFormat.detect(kernel, 100))
                .hasMessage(kernel + ": " + Files.size(kernel) + " bytes is too big to load into 100 bytes of guest RAM");
    }

    @Test
    void anEmptyInitrdIsRefusedNamingIt() throws IOException {
        Path kernel = pvhKernel(dir);
        Path empty = Files.write(dir.resolve("initrd"), new byte[0]);
        assertThatThrownBy(() -> new KexecLoader(kernel, Optional.of(empty), "").load(memory, 1))
                .isInstanceOf(BootException.class).hasMessage(empty + ": the initrd is empty");
    }

    @Test
    void anInitrdLargerThanGuestRamIsRefusedBeforeItIsRead() throws IOException {
        Path kernel = pvhKernel(dir);
        Path sparse = dir.resolve("sparse-initrd");
        try (var f = new java.io.RandomAccessFile(sparse.toFile(), "rw")) {
            f.setLength(64 * MIB + 1); // sparse: nothing is written, and nothing should be read
        }
        assertThatThrownBy(() -> new KexecLoader(kernel, Optional.of(sparse), "").load(memory, 1))
                .hasMessage(sparse + ": " + (64 * MIB + 1) + " bytes is too big to load into " + 64 * MIB + " bytes of guest RAM");
        assertThat(memory.readLong(LowMemoryMap.PVH_START_INFO)).as("nothing written for a refused boot").isZero();
    }
}
