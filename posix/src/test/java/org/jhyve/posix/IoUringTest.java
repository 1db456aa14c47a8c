package org.jhyve.posix;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** io_uring through FFM: requests go out in one enter, results come back through the completion ring. */
class IoUringTest {
    @TempDir
    Path dir;
    private final List<long[]> completions = new ArrayList<>();

    @BeforeEach
    void available() {
        // Kernels with io_uring switched off (kernel.io_uring_disabled=2) or too old refuse it: jhyve falls back to
        // threads there, and this test says why it did not run.
        try (IoUring ring = IoUring.open(8)) {
            assertThat(ring.entries()).isGreaterThanOrEqualTo(8);
        } catch (ErrnoException e) {
            org.junit.jupiter.api.Assumptions.abort("no io_uring on this kernel: " + e.getMessage());
        }
    }

    private void reap(IoUring ring) {
        ring.reap((data, result) -> completions.add(new long[] {data, result}));
    }

    /** Submits what is prepared and waits until {@code count} completions have been reaped in all. */
    private void submitAndReap(IoUring ring, int count) throws ErrnoException {
        ring.submit();
        while (completions.size() < count) {
            ring.awaitCompletions();
            reap(ring);
        }
    }

    private static MemorySegment iovecs(Arena arena, MemorySegment... buffers) {
        MemorySegment iov = arena.allocate(Libc.IOVEC_BYTES * buffers.length, 8);
        for (int i = 0; i < buffers.length; i++) {
            iov.set(ValueLayout.ADDRESS, Libc.IOVEC_BYTES * i + Libc.IOVEC_BASE, buffers[i]);
            iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_BYTES * i + Libc.IOVEC_LEN, buffers[i].byteSize());
        }
        return iov;
    }

    private static int open(Path p, int flags) {
        try (Arena a = Arena.ofConfined()) {
            int fd = Libc.open(Scratch.ofThisThread(), a.allocateFrom(p.toString()), flags | Libc.O_CLOEXEC, 0644);
            assertThat(fd).as("open %s", p).isNotNegative();
            return fd;
        }
    }

    @Test
    void aVectoredReadFillsBothBuffersFromTheOffset() throws Exception {
        byte[] content = new byte[8192];
        new Random(7).nextBytes(content);
        Path file = Files.write(dir.resolve("f"), content);
        int fd = open(file, Libc.O_RDONLY);
        try (IoUring ring = IoUring.open(8); Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(1000), b = arena.allocate(3000);
            assertThat(ring.prepare(IoUring.OP_READV, fd, iovecs(arena, a, b), 2, 100, 0, 42)).isTrue();
            submitAndReap(ring, 1);
            assertThat(completions).containsExactly(new long[] {42, 4000});
            assertThat(a.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(java.util.Arrays.copyOfRange(content, 100, 1100));
            assertThat(b.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(java.util.Arrays.copyOfRange(content, 1100, 4100));
        } finally {
            Libc.close(Scratch.ofThisThread(), fd);
        }
    }

    @Test
    void manyRequestsGoOutInOneSubmitAndEachComesBackWithItsOwnData() throws Exception {
        Path file = Files.write(dir.resolve("w"), new byte[16 * 512]);
        int fd = open(file, Libc.O_RDWR);
        try (IoUring ring = IoUring.open(16); Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < 16; i++) {
                MemorySegment buf = arena.allocate(512).fill((byte) (i + 1));
                assertThat(ring.prepare(IoUring.OP_WRITEV, fd, iovecs(arena, buf), 1, 512L * i, 0, 100 + i)).isTrue();
            }
            assertThat(ring.submit()).isEqualTo(16);
            while (completions.size() < 16) {
                ring.awaitCompletions();
                reap(ring);
            }
            assertThat(completions).extracting(c -> c[1]).containsOnly(512L);
            assertThat(completions).extracting(c -> c[0]).containsExactlyInAnyOrder(
                    java.util.stream.LongStream.range(100, 116).boxed().toArray(Long[]::new));
            completions.clear();
            assertThat(ring.prepare(IoUring.OP_FSYNC, fd, MemorySegment.NULL, 0, 0, IoUring.FSYNC_DATASYNC, 7)).isTrue();
            submitAndReap(ring, 1);
            assertThat(completions).containsExactly(new long[] {7, 0});
        } finally {
            Libc.close(Scratch.ofThisThread(), fd);
        }
        byte[] after = Files.readAllBytes(file);
        for (int i = 0; i < 16; i++) assertThat(after[512 * i + 511]).isEqualTo((byte) (i + 1));
    }

    @Test
    void aFailedRequestReportsMinusErrnoInItsCompletion() throws Exception {
        try (IoUring ring = IoUring.open(4); Arena arena = Arena.ofConfined()) {
            assertThat(ring.prepare(IoUring.OP_READV, 1_000_000, iovecs(arena, arena.allocate(16)), 1, 0, 0, 5)).isTrue();
            submitAndReap(ring, 1);
            assertThat(completions).containsExactly(new long[] {5, -Errno.EBADF});
        }
    }

    @Test
    void aFullSubmissionRingRefusesTheNextRequestInsteadOfOverwritingOne() throws Exception {
        try (IoUring ring = IoUring.open(4)) {
            for (int i = 0; i < ring.entries(); i++) assertThat(ring.prepare(IoUring.OP_NOP, -1, MemorySegment.NULL, 0, 0, 0, i)).isTrue();
            assertThat(ring.prepare(IoUring.OP_NOP, -1, MemorySegment.NULL, 0, 0, 0, 99)).as("no room for a ninth").isFalse();
            submitAndReap(ring, ring.entries());
            assertThat(completions).extracting(c -> c[0]).doesNotContain(99L);
            assertThat(ring.prepare(IoUring.OP_NOP, -1, MemorySegment.NULL, 0, 0, 0, 99)).as("room again once reaped").isTrue();
            ring.submit();
        }
    }
}
