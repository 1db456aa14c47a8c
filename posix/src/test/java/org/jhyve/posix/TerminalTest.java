package org.jhyve.posix;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A new pseudo-terminal: its slave's path, isatty, raw mode set and read back, bytes from slave to master. */
class TerminalTest {

    @Test
    void aPtyInRawModeCarriesBytesFromSlaveToMaster(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        int master = Terminal.openPtyMaster(Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        try (Arena arena = Arena.ofConfined()) {
            String path = Terminal.ptsName(master);
            assertThat(path).startsWith("/dev/pts/");
            int slave = Posix.open(path, Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC);
            try {
                assertThat(Terminal.isatty(slave)).isTrue();
                MemorySegment saved = Terminal.attributes(slave, arena);
                MemorySegment raw = Terminal.rawCopy(saved, arena);
                assertThat(raw.mismatch(saved)).as("raw mode differs from a new pty's cooked one").isNotNegative();
                Terminal.setAttributes(slave, raw);
                assertThat(Terminal.attributes(slave, arena).asSlice(0, 16).mismatch(raw.asSlice(0, 16))).isEqualTo(-1L);

                assertThat(Posix.write(slave, arena.allocateFrom("\n", StandardCharsets.US_ASCII), 1)).isEqualTo(1);
                assertThat(Posix.poll(master, Libc.POLLIN, 2000) & Libc.POLLIN).isNotZero();
                MemorySegment buf = arena.allocate(8);
                assertThat(Posix.read(master, buf)).as("raw: no \\n to \\r\\n").isEqualTo(1);
                assertThat(buf.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) '\n');
            } finally {
                Posix.close(slave);
            }
        } finally {
            Posix.close(master);
        }
        int file = Posix.open(dir.resolve("plain").toString(), Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0600);
        assertThat(Terminal.isatty(file)).isFalse();
        Posix.close(file);
    }
}
