package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Raw image files through libc: positional scatter/gather I/O, durability calls, O_DIRECT, locking. */
class FileBlockBackendTest {
    @TempDir
    Path dir;

    Path image(int size) throws IOException {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 13 + 1);
        return Files.write(dir.resolve("disk.img"), b);
    }

    @Test
    void scatterReadAndGatherWriteAtAnOffset() throws Exception {
        Path img = image(64 * 1024);
        try (Arena arena = Arena.ofConfined(); FileBlockBackend disk = FileBlockBackend.open(img.toString(), false, false, false)) {
            assertThat(disk.size()).isEqualTo(64 * 1024);
            MemorySegment a = arena.allocate(100), b = arena.allocate(412);
            disk.read(512, List.of(a, b));
            assertThat(a.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) (512 * 13 + 1));
            assertThat(b.get(ValueLayout.JAVA_BYTE, 411)).isEqualTo((byte) (1023 * 13 + 1));
            a.fill((byte) 0x11);
            b.fill((byte) 0x22);
            disk.write(4096, List.of(a, b));
            disk.flush();
        }
        byte[] after = Files.readAllBytes(img);
        assertThat(after[4096]).isEqualTo((byte) 0x11);
        assertThat(after[4096 + 99]).isEqualTo((byte) 0x11);
        assertThat(after[4096 + 100]).isEqualTo((byte) 0x22);
        assertThat(after[4096 + 511]).isEqualTo((byte) 0x22);
        assertThat(after[4096 + 512]).isEqualTo((byte) ((4096 + 512) * 13 + 1));
    }

    @Test
    void heapBuffersWorkThroughABounceBuffer() throws Exception {
        Path img = image(8192);
        try (FileBlockBackend disk = FileBlockBackend.open(img.toString(), false, false, false)) {
            byte[] heap = new byte[16];
            disk.read(16, List.of(MemorySegment.ofArray(heap)));
            assertThat(heap[0]).isEqualTo((byte) (16 * 13 + 1));
        }
    }

    @Test
    void directIoHandlesAlignedAndUnalignedRequests() throws Exception {
        Path img = image(64 * 1024);
        try (Arena arena = Arena.ofConfined(); FileBlockBackend disk = FileBlockBackend.open(img.toString(), false, true, true)) {
            MemorySegment aligned = arena.allocate(4096, 4096);
            aligned.fill((byte) 0x33);
            disk.write(8192, List.of(aligned));
            MemorySegment odd = arena.allocate(512, 8);
            odd.fill((byte) 0x44);
            disk.write(512 * 3, List.of(odd)); // not 4 KiB aligned: read-modify-write through an aligned buffer
            MemorySegment back = arena.allocate(512, 8);
            disk.read(512 * 3, List.of(back));
            assertThat(back.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 0x44);
        } catch (HostIoException e) {
            // tmpfs and some other file systems refuse O_DIRECT outright
            org.junit.jupiter.api.Assumptions.assumeTrue(e.errno() != 22, "O_DIRECT is not supported by the file system under " + dir);
            throw e;
        }
        byte[] after = Files.readAllBytes(img);
        assertThat(after[8192]).isEqualTo((byte) 0x33);
        assertThat(after[512 * 3 + 511]).isEqualTo((byte) 0x44);
        assertThat(after[512 * 4]).as("the rest of the 4 KiB block is untouched").isEqualTo((byte) (512 * 4 * 13 + 1));
    }

    @Test
    void largeUnalignedRequestsGoThroughTheBounceBufferPieceByPieceAndLandInPlace() throws Exception {
        int size = 4 << 20;
        Path img = image(size);
        byte[] original = Files.readAllBytes(img), expected = original.clone();
        // Heap segments of odd sizes (never native, so always bounced), 3 MiB and a bit from an offset that is
        // not 4 KiB aligned: several bounce chunks, with merged head and tail blocks under O_DIRECT.
        int[] lengths = {700, 1 << 20, 3, (2 << 20) + 1000, 12345, 321};
        long offset = 3 * 512 + 4096;
        List<MemorySegment> buffers = new java.util.ArrayList<>();
        int at = (int) offset;
        for (int i = 0; i < lengths.length; i++) {
            byte[] b = new byte[lengths[i]];
            for (int k = 0; k < b.length; k++) b[k] = (byte) (i * 41 + k * 7);
            System.arraycopy(b, 0, expected, at, b.length);
            at += b.length;
            buffers.add(MemorySegment.ofArray(b));
        }
        int total = at - (int) offset;
        for (boolean direct : new boolean[] {false, true}) {
            Files.write(img, original);
            try (FileBlockBackend disk = FileBlockBackend.open(img.toString(), false, direct, false)) {
                disk.write(offset, buffers);
                byte[] back = new byte[total];
                disk.read(offset, List.of(MemorySegment.ofArray(back)));
                assertThat(back).isEqualTo(java.util.Arrays.copyOfRange(expected, (int) offset, (int) offset + total));
            } catch (HostIoException e) {
                org.junit.jupiter.api.Assumptions.assumeTrue(e.errno() != 22, "O_DIRECT is not supported by the file system under " + dir);
                throw e;
            }
            assertThat(Files.readAllBytes(img)).as("direct=" + direct).isEqualTo(expected);
        }
    }

    @Test
    void writeZeroesAndDiscardLeaveZeroes() throws Exception {
        Path img = image(64 * 1024);
        try (FileBlockBackend disk = FileBlockBackend.open(img.toString(), false, false, false)) {
            disk.writeZeroes(4096, 8192, true);
            disk.writeZeroes(20480, 512, false);
            disk.discard(32768, 4096);
        }
        byte[] after = Files.readAllBytes(img);
        assertThat(after).hasSize(64 * 1024);
        for (int i = 4096; i < 12288; i++) assertThat(after[i]).isZero();
        for (int i = 20480; i < 20992; i++) assertThat(after[i]).isZero();
        assertThat(after[4095]).isNotZero();
        assertThat(after[12288]).isEqualTo((byte) (12288 * 13 + 1));
    }

    @Test
    void readOnlyImagesRefuseWritesAndAnImageIsLockedAgainstASecondWriter() throws Exception {
        Path img = image(8192);
        try (FileBlockBackend ro = FileBlockBackend.open(img.toString(), true, false, false)) {
            assertThat(ro.readOnly()).isTrue();
            assertThatThrownBy(() -> ro.write(0, List.of(MemorySegment.ofArray(new byte[512])))).hasMessageContaining("read-only");
            try (FileBlockBackend ro2 = FileBlockBackend.open(img.toString(), true, false, false)) {
                assertThat(ro2.size()).as("readers share").isEqualTo(8192);
            }
            assertThatThrownBy(() -> FileBlockBackend.open(img.toString(), false, false, false))
                    .isInstanceOf(IOException.class).hasMessageContaining("in use by another process");
        }
    }

    @Test
    void hostErrorsNameTheFileAndReason() {
        assertThatThrownBy(() -> FileBlockBackend.open(dir.resolve("missing.img").toString(), false, false, false))
                .isInstanceOf(HostIoException.class).hasMessageContaining("missing.img: open: No such file or directory (errno 2)");
    }
}
