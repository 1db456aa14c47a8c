package org.jhyve.devices.uart;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A port on a path: a regular file records the guest's output (appended, created if missing); a device
 * (an existing /dev/pts/N, a null-modem tty) is opened read-write and also feeds input. A FIFO is refused:
 * opened read-write it would hand the guest's output back to the guest as input, and opened one way it
 * would carry one direction only; {@link PipeBackend} takes a PATH.in and PATH.out pair instead.
 */
public final class FileBackend implements SerialBackend {
    private static final Logger log = LoggerFactory.getLogger(FileBackend.class);

    private final Path path;
    private final OutputStream file;
    private final int deviceFd;
    private final Arena arena;
    private final MemorySegment oneByte;
    private FdReader reader;
    private boolean closed;

    public FileBackend(Path path) throws IOException {
        this.path = path;
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            if (Files.isDirectory(path)) throw new IOException(path + " is a directory");
            if (isFifo(path)) {
                throw new IOException(path + " is a FIFO: one FIFO would hand the guest's output back to it as input; make "
                        + path + ".in and " + path + ".out (mkfifo) and give " + path);
            }
            deviceFd = Posix.open(path.toString(), Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC);
            file = null;
            arena = Arena.ofShared();
            oneByte = arena.allocate(1);
        } else {
            file = Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            deviceFd = -1;
            arena = null;
            oneByte = null;
        }
    }

    /** st_mode's file type bits, and a FIFO's (stat(2)). */
    private static final int S_IFMT = 0170000, S_IFIFO = 0010000;

    private static boolean isFifo(Path path) throws IOException {
        return ((Integer) Files.getAttribute(path, "unix:mode") & S_IFMT) == S_IFIFO;
    }

    /** True when the path is a device that also provides input. */
    public boolean isDevice() {
        return deviceFd >= 0;
    }

    @Override
    public synchronized void transmit(byte b) {
        if (closed) return;
        try {
            if (file != null) {
                file.write(b);
                if (b == '\n') file.flush();
            } else {
                oneByte.set(ValueLayout.JAVA_BYTE, 0, b);
                Posix.writeFully(deviceFd, oneByte);
            }
        } catch (IOException e) {
            log.debug("{}: {}", path, e.getMessage());
        }
    }

    @Override
    public synchronized void connect(SerialInput input) {
        if (deviceFd < 0) return; // a regular file gives no input
        reader = new FdReader(path.toString(), deviceFd, input);
        reader.start();
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public void close() {
        FdReader r;
        synchronized (this) {
            if (closed) return;
            closed = true;
            r = reader;
        }
        if (r != null) r.stop();
        try {
            if (file != null) file.close();
        } catch (IOException e) {
            log.warn("{}: {}", path, e.getMessage());
        }
        if (deviceFd >= 0) {
            Posix.close(deviceFd);
            arena.close();
        }
    }
}
