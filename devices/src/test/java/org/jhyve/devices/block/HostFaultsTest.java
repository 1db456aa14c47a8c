package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host's storage failing for real under a {@link FileBlockBackend}: a file system that fills up in the
 * middle of a write (the kernel writes part, then says ENOSPC), a loop device whose writeback is lost (the
 * first fdatasync says EIO, and Linux's next one says nothing), an image another process shrank. Each is
 * reported as an IOException, never taken as a completed request, and the backend keeps serving what it can.
 */
@Timeout(60)
class HostFaultsTest {
    static final int ENOSPC = 28, EIO = 5;

    @TempDir
    Path dir;

    static MemorySegment filled(Arena arena, int length, int seed) {
        MemorySegment s = arena.allocate(length, 4096);
        for (int i = 0; i < length; i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) (seed + i * 13));
        return s;
    }

    static Path sparse(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
        return file;
    }

    @Test
    void aWriteThatFillsTheFileSystemHalfWayIsContinuedThenReportedAsEnospc() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(dir.resolve("fs"), 256 << 10); Arena arena = Arena.ofConfined()) {
            Path img = sparse(fs.path().resolve("disk.img"), 1 << 20);
            try (FileBlockBackend disk = FileBlockBackend.open(img.toString(), false, false, false)) {
                MemorySegment big = filled(arena, 512 << 10, 1);
                // pwritev writes what fits (a short write), the rest is retried and gets ENOSPC.
                assertThatThrownBy(() -> disk.write(0, List.of(big))).isInstanceOf(HostIoException.class)
                        .hasMessageContaining("pwritev: No space left on device")
                        .satisfies(e -> assertThat(((HostIoException) e).errno()).isEqualTo(ENOSPC));
                assertThat(Files.size(img)).isEqualTo(1 << 20);
                byte[] landed = new byte[4096];
                disk.read(0, List.of(MemorySegment.ofArray(landed)));
                assertThat(landed).as("the part that fitted was written (the write was short, not refused)")
                        .isEqualTo(big.asSlice(0, 4096).toArray(ValueLayout.JAVA_BYTE));
                // Space already allocated can still be rewritten; the backend goes on serving.
                MemorySegment small = filled(arena, 4096, 7);
                disk.write(0, List.of(small));
                disk.read(0, List.of(MemorySegment.ofArray(landed)));
                assertThat(landed).isEqualTo(small.toArray(ValueLayout.JAVA_BYTE));
                disk.flush();
            }
        }
    }

    @Test
    void onceAnFdatasyncFailedNoLaterFlushSucceedsAlthoughLinuxWouldSayOk() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(dir.resolve("fs"), 1 << 20); Arena arena = Arena.ofConfined()) {
            // The premise, with the bare file: the kernel reports a lost writeback once, then forgets it.
            String premise = fs.loopDevice(sparse(fs.path().resolve("premise"), 8 << 20));
            try (HostFile raw = HostFile.open(premise, HostFile.O_RDWR)) {
                raw.writeFully(0, List.of(filled(arena, 2 << 20, 3)));
                assertThatThrownBy(raw::sync).isInstanceOf(HostIoException.class).satisfies(e -> assertThat(((HostIoException) e).errno()).isEqualTo(EIO));
                raw.sync(); // "success": the 2 MiB are gone all the same
            }
            Files.delete(fs.path().resolve("premise")); // the loop device keeps its file; this frees nothing, but says it is done with

            String device = fs.loopDevice(sparse(fs.path().resolve("backing"), 8 << 20));
            FileBlockBackend disk = FileBlockBackend.open(device, false, false, false);
            try {
                assertThat(disk.size()).isEqualTo(8 << 20);
                disk.write(0, List.of(filled(arena, 2 << 20, 5))); // into the page cache: fine for now
                assertThatThrownBy(disk::flush).isInstanceOf(HostIoException.class).hasMessageContaining("fdatasync: Input/output error");
                for (int i = 0; i < 2; i++) {
                    assertThatThrownBy(disk::flush).isInstanceOf(IOException.class).hasMessageContaining("not flushed: an earlier fdatasync failed");
                }
                assertThatThrownBy(disk::close).as("closing flushes, and fails the same way").hasMessageContaining("an earlier fdatasync failed");
            } finally {
                try {
                    disk.close(); // idempotent; the loop device must be free before the tmpfs can go
                } catch (IOException expected) {
                    // the flush in close fails: that is what the test is about
                }
            }
        }
    }

    @Test
    void aReadPastTheEndOfAnImageThatShrankIsAnErrorNotZeroes() throws Exception {
        Path img = Files.write(dir.resolve("disk.img"), new byte[64 << 10]);
        try (FileBlockBackend disk = FileBlockBackend.open(img.toString(), false, false, false); Arena arena = Arena.ofConfined()) {
            try (RandomAccessFile other = new RandomAccessFile(img.toFile(), "rw")) {
                other.setLength(8 << 10); // another process truncates the image under the VM
            }
            MemorySegment buf = arena.allocate(4096, 4096);
            assertThatThrownBy(() -> disk.read(32 << 10, List.of(buf))).isInstanceOf(IOException.class)
                    .hasMessageContaining("preadv: end of file at byte 32768 with 4096 bytes of the request left");
            // A read straddling the new end: the first part arrives (a short read), the rest is an error.
            assertThatThrownBy(() -> disk.read(6 << 10, List.of(buf))).isInstanceOf(IOException.class)
                    .hasMessageContaining("end of file at byte 8192 with 2048 bytes of the request left");
            disk.read(0, List.of(buf));
        }
    }

    @Test
    void aBackendUsedAfterCloseFailsInsteadOfWritingToWhateverReusedItsDescriptor() throws Exception {
        Path a = Files.write(dir.resolve("a.img"), new byte[8192]), b = Files.write(dir.resolve("b.img"), new byte[8192]);
        FileBlockBackend first = FileBlockBackend.open(a.toString(), false, false, false);
        first.close();
        try (FileBlockBackend second = FileBlockBackend.open(b.toString(), false, false, false); Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> first.write(0, List.of(filled(arena, 4096, 9)))).isInstanceOf(IOException.class).hasMessageEndingWith("a.img: closed");
            second.flush();
        }
        assertThat(Files.readAllBytes(b)).as("the file that got the closed descriptor's number").isEqualTo(new byte[8192]);
    }
}
