package org.jhyve.devices.uart;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Posix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon thread that reads a file descriptor into a {@link SerialInput}. It polls with a short timeout
 * rather than blocking in read(2), so {@link #stop} ends it promptly (closing an fd does not wake a
 * thread blocked reading it).
 */
final class FdReader implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(FdReader.class);
    private static final int POLL_MILLIS = 100;

    private final int fd;
    private final SerialInput input;
    private final String name;
    private final Thread thread;
    private volatile boolean stopped;

    FdReader(String name, int fd, SerialInput input) {
        this.name = name;
        this.fd = fd;
        this.input = input;
        this.thread = Thread.ofPlatform().daemon().name("jhyve-serial-" + name).unstarted(this);
    }

    void start() {
        thread.start();
    }

    @Override
    public void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(1024);
            byte[] chunk = new byte[1024];
            while (!stopped) {
                if (Posix.poll(fd, Libc.POLLIN, POLL_MILLIS) == 0) continue; // readable, hung up or failed: read says which
                long n = Posix.read(fd, buf);
                if (n == Posix.WOULD_BLOCK) continue; // a non-blocking fd that was readable a moment ago is not: poll again
                if (n == 0) break; // end of input: the port just goes quiet
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, chunk, 0, (int) n);
                if (!input.put(chunk, 0, (int) n)) break;
            }
        } catch (IOException e) {
            if (!stopped) log.warn("serial {}: input stopped: {}", name, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the thread and waits for it, so the fd can be closed safely afterwards. */
    void stop() {
        stopped = true;
        input.close();
        if (thread.isAlive() && thread != Thread.currentThread()) {
            try {
                thread.join(2 * POLL_MILLIS + 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
