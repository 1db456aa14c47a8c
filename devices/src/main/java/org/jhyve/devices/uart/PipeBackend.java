package org.jhyve.devices.uart;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Posix;

/**
 * A port on two paths, QEMU's pipe convention: for {@code -l com1,PATH} with PATH.in and PATH.out both present,
 * the guest's input is read from PATH.in and its output written to PATH.out. FIFOs (mkfifo) are the point; a
 * regular PATH.in is read once, a regular PATH.out appended to. One direction per file, so the guest never
 * reads back its own output, as it would through a single FIFO opened both ways ({@link FileBackend} refuses
 * that).
 *
 * <p>A FIFO is opened read-write, which never waits for the other end to be opened and never sees end of file
 * when a writer goes away; jhyve neither reads PATH.out nor writes PATH.in. Output does not block: while
 * PATH.out's pipe is full (its reader is slow, stopped, or not there yet) the UART shows a full transmitter
 * ({@link FdTransmitter}, {@code HOLD}), as a slow line would, and never stalls a vCPU in write(2).
 */
public final class PipeBackend implements SerialBackend {
    private final Path inPath;
    private final Path outPath;
    private final int inFd;
    private final int outFd;
    private final FdTransmitter output;
    private FdReader reader; // guarded by this
    private boolean closed;  // guarded by this

    /** Whether {@code path}.in and {@code path}.out both exist: then {@code -l ...,path} means this backend. */
    public static boolean pairExists(Path path) {
        return Files.exists(in(path)) && Files.exists(out(path));
    }

    private static Path in(Path path) {
        return path.resolveSibling(path.getFileName() + ".in");
    }

    private static Path out(Path path) {
        return path.resolveSibling(path.getFileName() + ".out");
    }

    public PipeBackend(Path path) throws IOException {
        inPath = in(path);
        outPath = out(path);
        inFd = Posix.open(inPath.toString(), openFlags(inPath, Libc.O_RDONLY));
        try {
            outFd = Posix.open(outPath.toString(), openFlags(outPath, Libc.O_WRONLY | Libc.O_APPEND) | Libc.O_NONBLOCK);
        } catch (IOException e) {
            Posix.closeQuietly(inFd);
            throw e;
        }
        output = new FdTransmitter(outFd, outPath.toString(), FdTransmitter.WhenFull.HOLD);
    }

    /** Read-write for a FIFO or device, {@code regular} for a regular file; a directory is refused. */
    private static int openFlags(Path p, int regular) throws IOException {
        if (Files.isDirectory(p)) throw new IOException(p + " is a directory");
        return (Files.isRegularFile(p) ? regular : Libc.O_RDWR) | Libc.O_NOCTTY | Libc.O_CLOEXEC;
    }

    @Override
    public void transmit(byte b) {
        output.transmit(b);
    }

    @Override
    public boolean canTransmit() {
        return output.canTransmit();
    }

    @Override
    public void onTransmitReady(Runnable ready) {
        output.onReady(ready);
    }

    /** Bytes the guest wrote while the transmitter was full and its buffer too. */
    long dropped() {
        return output.dropped();
    }

    @Override
    public synchronized void connect(SerialInput input) {
        if (closed || reader != null) return;
        reader = new FdReader(inPath.toString(), inFd, input);
        reader.start();
    }

    @Override
    public String describe() {
        return inPath + " and " + outPath;
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
        output.close();
        Posix.closeQuietly(inFd);
        Posix.closeQuietly(outFd);
    }
}
