package org.jhyve.posix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Spawning a helper with descriptors of ours at numbers of its own, and seeing it end. */
class ChildProcessTest {
    private static String sh() {
        return Files.isExecutable(Path.of("/bin/sh")) ? "/bin/sh" : "/usr/bin/sh";
    }

    private static String readAll(int fd) throws ErrnoException {
        StringBuilder out = new StringBuilder();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            long n;
            while ((n = Posix.read(fd, buf)) > 0) out.append(new String(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
        }
        return out.toString();
    }

    @Test
    void theChildTalksOnTheDescriptorItWasGivenAndSeesNoOther() throws Exception {
        FdPair socket = FdPair.unixStream(), out = FdPair.pipe();
        // fd 3 is our socket end; the child lists its descriptors (only 0-3 may be open: 0-2 from us, 3 the socket).
        ChildProcess child = ChildProcess.spawn(List.of(sh(), "-c", "echo hello >&3; ls /proc/self/fd >&1"),
                List.of(new ChildProcess.Fd(1, out.second()), new ChildProcess.Fd(3, socket.second())));
        Posix.close(socket.second());
        Posix.close(out.second());
        assertThat(child.onExit().get(10, TimeUnit.SECONDS)).isZero();
        assertThat(readAll(socket.first())).isEqualTo("hello\n");
        // ls's own directory descriptor shows too (one number above the highest inherited); nothing else.
        List<String> fds = List.of(readAll(out.first()).trim().split("\\s+"));
        assertThat(fds).contains("1", "3").doesNotContain("5", "6", "7", "8", "9", "10");
        assertThat(fds.size()).isLessThanOrEqualTo(5);
        Posix.close(socket.first());
        Posix.close(out.first());
    }

    @Test
    void theExitStatusAndDeathBySignalAreReportedAsAShellDoes() throws Exception {
        assertThat(ChildProcess.spawn(List.of(sh(), "-c", "exit 7"), List.of()).onExit().get(10, TimeUnit.SECONDS)).isEqualTo(7);
        ChildProcess sleeper = ChildProcess.spawn(List.of(sh(), "-c", "sleep 30"), List.of());
        assertThat(sleeper.onExit()).isNotDone();
        sleeper.signal(ChildProcess.SIGTERM);
        assertThat(sleeper.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(128 + ChildProcess.SIGTERM);
        sleeper.signal(ChildProcess.SIGKILL); // ended and reaped: not sent to anyone
    }

    @Test
    void aChildInASessionOfItsOwnWithNoSignalBlocked() throws Exception {
        FdPair out = FdPair.pipe();
        ChildProcess child = ChildProcess.spawn(List.of(sh(), "-c", "grep -E '^(SigBlk|SigIgn)' /proc/self/status; cat /proc/self/stat"),
                List.of(new ChildProcess.Fd(1, out.second())));
        Posix.close(out.second());
        assertThat(child.onExit().get(10, TimeUnit.SECONDS)).isZero();
        String text = readAll(out.first());
        Posix.close(out.first());
        assertThat(text).contains("SigBlk:\t0000000000000000");
        // The JVM ignores none of the standard signals either, but glibc keeps two real-time ones (32, 33) for itself.
        String ignored = text.substring(text.indexOf("SigIgn:\t") + 8, text.indexOf("SigIgn:\t") + 24);
        assertThat(Long.parseLong(ignored, 16) & 0x7fffffffL).as("standard signals ignored").isZero();
        // /proc/PID/stat of cat, whose parent is the spawned shell: "(comm) state ppid pgrp session ...". The
        // shell leads a session of its own, so cat's session id is its parent's pid.
        String[] f = text.substring(text.lastIndexOf(')') + 2).trim().split(" ");
        assertThat(f[3]).as("session").isEqualTo(f[1]);
        assertThat(f[1]).isNotEqualTo(String.valueOf(ProcessHandle.current().pid()));
    }

    @Test
    void aProgramThatCannotRunIsAnErrnoException() {
        assertThatThrownBy(() -> ChildProcess.spawn(List.of("/nonexistent/passt"), List.of()))
                .isInstanceOf(ErrnoException.class).hasMessageContaining("/nonexistent/passt").hasMessageContaining("No such file");
    }
}
