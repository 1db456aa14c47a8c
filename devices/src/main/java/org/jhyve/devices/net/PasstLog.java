package org.jhyve.devices.net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.posix.ChildProcess;
import org.jhyve.posix.ErrnoException;
import org.jhyve.posix.Posix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What passt says on its stdout and stderr (a pipe), read by a thread of its own until passt has closed it:
 * warnings and errors (passt runs with {@code -q}) go to jhyve's log, rate-limited, since what passt warns of
 * may be what the network sends it; the last line is kept, for the message when passt exits. Lines about the
 * system log (there is often none to send to) and passt's note that it drops root are left out. Lines are cut
 * at {@link #MAX_LINE} bytes. Threads: the log thread reads; {@link #lastLine} and {@link #awaitEnd} from any.
 */
final class PasstLog {
    private static final Logger log = LoggerFactory.getLogger(PasstLog.class);
    static final int MAX_LINE = 512;

    private final GuestErrorLog errors;
    private final Thread reader;
    private volatile String lastLine;

    private PasstLog(String name, ChildProcess passt, int fd) {
        this.errors = new GuestErrorLog(log, name + " passt");
        this.reader = Thread.ofPlatform().name("jhyve-passt-log-" + passt.pid()).daemon().unstarted(() -> read(fd));
    }

    static PasstLog start(String name, ChildProcess passt, int fd) {
        PasstLog l = new PasstLog(name, passt, fd);
        l.reader.start();
        return l;
    }

    /** passt's last line (a warning or an error), if it said any. */
    Optional<String> lastLine() { return Optional.ofNullable(lastLine); }

    /** Waits (a second at most) for passt to close its end: once it has exited, all it said has been read. */
    void awaitEnd() {
        try {
            reader.join(TimeUnit.SECONDS.toMillis(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void read(int fd) {
        StringBuilder line = new StringBuilder();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            long n;
            while ((n = Posix.read(fd, buf)) > 0) {
                byte[] bytes = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                for (byte b : bytes) {
                    if (b == '\n') {
                        take(line.toString());
                        line.setLength(0);
                    } else if (line.length() < MAX_LINE) {
                        line.append((char) (b & 0xff));
                    }
                }
            }
            if (!line.isEmpty()) take(line.toString());
        } catch (ErrnoException e) {
            log.debug("passt's messages: {}", e.getMessage());
        } finally {
            Posix.closeQuietly(fd);
        }
    }

    private void take(String raw) {
        String text = new String(raw.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8).strip();
        if (text.isEmpty() || text.matches("Failed to send \\d+ bytes to syslog") || text.startsWith("Don't run as root")) return;
        lastLine = text;
        errors.report("%s", text);
    }
}
