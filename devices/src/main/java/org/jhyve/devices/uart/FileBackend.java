package org.jhyve.devices.uart;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Posix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A port on a path: a regular file records the guest's output (appended, created if missing); a device
 * (an existing /dev/pts/N, a null-modem tty) is opened read-write and non-blocking and also feeds input. A FIFO is refused:
 * opened read-write it would hand the guest's output back to the guest as input, and opened one way it
 * would carry one direction only; {@link PipeBackend} takes a PATH.in and PATH.out pair instead.
 */
public final class FileBackend implements SerialBackend {
    private static final Logger log = LoggerFactory.getLogger(FileBackend.class);

    private final Path path;
    private final OutputStream file;
    private final int deviceFd;
    private final FdTransmitter deviceOutput;
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
            // Non-blocking: a terminal whose other side nobody reads must not stall a vCPU in write(2).
            deviceFd = Posix.open(path.toString(), Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC | Libc.O_NONBLOCK);
            file = null;
            deviceOutput = new FdTransmitter(deviceFd, path.toString(), FdTransmitter.WhenFull.HOLD);
        } else {
            file = Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            deviceFd = -1;
            deviceOutput = null;
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
    public void transmit(byte b) {
        if (deviceOutput != null) {
            deviceOutput.transmit(b);
            return;
        }
        synchronized (this) {
            if (closed) return;
            try {
                file.write(b);
                if (b == '\n') file.flush();
            } catch (IOException e) {
                log.debug("{}: {}", path, e.getMessage());
            }
        }
    }

    /** A device whose other side does not read shows a full transmitter, as a slow line ({@link FdTransmitter}). */
    @Override
    public boolean canTransmit() {
        return deviceOutput == null || deviceOutput.canTransmit();
    }

    @Override
    public void onTransmitReady(Runnable ready) {
        if (deviceOutput != null) deviceOutput.onReady(ready);
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
            deviceOutput.close();
            Posix.closeQuietly(deviceFd);
        }
    }
}
