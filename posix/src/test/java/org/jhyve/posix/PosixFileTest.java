package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files through the layer: open (variadic, with a mode), read, write, close, and the positional and file calls. */
class PosixFileTest {
    @TempDir
    Path dir;

    @Test
    void aFileOpenedWithOCreatGetsTheModeAndRoundTripsItsBytes() throws IOException {
        Path file = dir.resolve("new");
        // 0600 survives any umask: the mode goes through open's variadic slot, and the file has exactly it.
        int fd = Posix.open(file.toString(), Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0600);
        try (Arena arena = Arena.ofConfined()) {
            assertThat(Posix.write(fd, arena.allocateFrom("hello", StandardCharsets.US_ASCII), 5)).isEqualTo(5);
            Scratch s = Scratch.allocate();
            assertThat(Libc.lseek(s, fd, 0, Libc.SEEK_SET)).isZero();
            MemorySegment buf = arena.allocate(16);
            assertThat(Posix.read(fd, buf)).isEqualTo(5);
            assertThat(buf.getString(0, StandardCharsets.US_ASCII)).isEqualTo("hello");
            assertThat(Posix.read(fd, buf)).as("end of file").isZero();
        } finally {
            Posix.close(fd);
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Files.readString(file)).isEqualTo("hello");
        assertThatThrownBy(() -> Posix.open(file.toString(), Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL, 0600))
                .isInstanceOf(ErrnoException.class).satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EEXIST));
    }

    @Test
    void positionalVectoredIoSizeSyncAndHolePunching() throws IOException {
        Path file = dir.resolve("disk");
        Files.write(file, new byte[8192]);
        int fd = Posix.open(file.toString(), Libc.O_RDWR | Libc.O_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            Scratch s = Scratch.allocate();
            MemorySegment a = arena.allocate(3).fill((byte) 'a'), b = arena.allocate(2).fill((byte) 'b');
            MemorySegment iov = iovecs(arena, a, b);
            assertThat(Libc.pwritev(s, fd, iov, 2, 4096)).isEqualTo(5);
            MemorySegment back = arena.allocate(5);
            assertThat(Libc.preadv(s, fd, iovecs(arena, back), 1, 4096)).isEqualTo(5);
            assertThat(new String(back.toArray(JAVA_BYTE), StandardCharsets.US_ASCII)).isEqualTo("aaabb");
            assertThat(Libc.lseek(s, fd, 0, Libc.SEEK_END)).isEqualTo(8192);
            assertThat(Libc.fdatasync(s, fd)).isZero();
            int r = Libc.fallocate(s, fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, 4096, 4096);
            if (r < 0) assertThat(s.errno()).as("only a file system without hole punching refuses").isEqualTo(Errno.EOPNOTSUPP);
            else assertThat(Libc.preadv(s, fd, iovecs(arena, back), 1, 4096)).isEqualTo(5);
            if (r == 0) assertThat(back.toArray(JAVA_BYTE)).containsOnly((byte) 0);
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void anExclusiveLockKeepsASecondOpenOut() throws IOException {
        Path file = dir.resolve("locked");
        Files.write(file, new byte[1]);
        int first = Posix.open(file.toString(), Libc.O_RDWR | Libc.O_CLOEXEC);
        int second = Posix.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            Scratch s = Scratch.allocate();
            assertThat(Libc.flock(s, first, Libc.LOCK_EX | Libc.LOCK_NB)).isZero();
            assertThat(Libc.flock(s, second, Libc.LOCK_SH | Libc.LOCK_NB)).isEqualTo(-1);
            assertThat(s.errno()).isEqualTo(Errno.EWOULDBLOCK);
        } finally {
            Posix.close(first);
            Posix.close(second);
        }
    }

    @Test
    void anonymousMemoryMapsAndUnmaps() throws ErrnoException {
        MemorySegment address = Posix.mmap(4096, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        assertThat(address.address() % 4096).isZero();
        Posix.munmap(address, 4096);
        assertThatThrownBy(() -> Posix.mmap(0, Libc.PROT_READ, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0))
                .isInstanceOf(ErrnoException.class).hasMessage("0 bytes: mmap: Invalid argument (errno 22)");
    }

    static MemorySegment iovecs(Arena arena, MemorySegment... buffers) {
        MemorySegment iov = arena.allocate(Libc.IOVEC_BYTES * buffers.length, 8);
        for (int i = 0; i < buffers.length; i++) {
            iov.set(ADDRESS, Libc.IOVEC_BYTES * i + Libc.IOVEC_BASE, buffers[i]);
            iov.set(JAVA_LONG, Libc.IOVEC_BYTES * i + Libc.IOVEC_LEN, buffers[i].byteSize());
        }
        return iov;
    }
}
