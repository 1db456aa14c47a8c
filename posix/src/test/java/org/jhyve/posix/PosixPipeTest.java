package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipe (a FIFO, opened read-write and non-blocking, as the serial backends open one): EAGAIN as
 * {@link Posix#WOULD_BLOCK}, poll, ioctl through the variadic slot, and a byte-at-a-time loop that allocates nothing.
 */
class PosixPipeTest {
    private static final long FIONREAD = 0x541B;

    @TempDir
    Path dir;
    Path fifo;

    @BeforeEach
    void makeFifo() throws Exception {
        fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor()).isZero();
    }

    private int open() throws ErrnoException {
        return Posix.open(fifo.toString(), Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
    }

    @Test
    void anEmptyPipeWouldBlockAndAWrittenOneReadsBack() throws IOException {
        int fd = open();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(64);
            assertThat(Posix.read(fd, buf)).isEqualTo(Posix.WOULD_BLOCK);
            assertThat(Posix.poll(fd, Libc.POLLIN, 0)).as("nothing to read: a timeout").isZero();
            assertThat(Posix.poll(fd, Libc.POLLOUT, 0) & Libc.POLLOUT).isNotZero();

            assertThat(Posix.write(fd, arena.allocateFrom("ping", StandardCharsets.US_ASCII), 4)).isEqualTo(4);
            assertThat(Posix.poll(fd, Libc.POLLIN, 1000) & Libc.POLLIN).isNotZero();
            MemorySegment count = arena.allocate(JAVA_INT);
            assertThat(Posix.ioctl(fd, FIONREAD, count)).isZero();
            assertThat(count.get(JAVA_INT, 0)).isEqualTo(4);
            assertThat(Posix.read(fd, buf)).isEqualTo(4);
            assertThat(buf.getString(0, StandardCharsets.US_ASCII)).isEqualTo("ping");
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void aFullPipeWouldBlockOnWrite() throws IOException {
        int fd = open();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate(65536);
            long written = 0;
            long n;
            while ((n = Posix.write(fd, chunk)) != Posix.WOULD_BLOCK) written += n;
            assertThat(written).isPositive();
            assertThat(Posix.poll(fd, Libc.POLLOUT, 0) & Libc.POLLOUT).as("no room").isZero();
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void aByteAtATimeAllocatesNothing() throws IOException {
        int fd = open();
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(1);
            long rounds = 100_000;
            // Compiled, the path allocates nothing; interpreted or by C1 alone the JDK's FFM glue does (some 120
            // bytes a round), so measure window after window until C2 has compiled it (a loaded machine delays that).
            long perRound = Long.MAX_VALUE;
            for (int window = 0; window < 50 && perRound != 0; window++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                pingPong(fd, b, rounds);
                perRound = (threads.getCurrentThreadAllocatedBytes() - before) / rounds;
            }
            assertThat(perRound).as("bytes allocated per write, poll and read of one byte, once compiled").isZero();
        } finally {
            Posix.close(fd);
        }
    }

    private static void pingPong(int fd, MemorySegment b, long rounds) throws ErrnoException {
        for (long i = 0; i < rounds; i++) {
            if (Posix.write(fd, b, 1) != 1 || Posix.poll(fd, Libc.POLLIN, 0) == 0 || Posix.read(fd, b, 1) != 1) {
                throw new AssertionError("round " + i);
            }
        }
    }
}
