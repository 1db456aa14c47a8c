package org.jhyve.devices.uart;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.devices.log.GuestErrorLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A port on two paths, QEMU's pipe convention: for {@code -l com1,PATH} with PATH.in and PATH.out both present,
 * the guest's input is read from PATH.in and its output written to PATH.out. FIFOs (mkfifo) are the point; a
 * regular PATH.in is read once, a regular PATH.out appended to. One direction per file, so the guest never
 * reads back its own output, as it would through a single FIFO opened both ways ({@link FileBackend} refuses
 * that).
 *
 * <p>A FIFO is opened read-write, which never waits for the other end to be opened and never sees end of file
 * when a writer goes away; jhyve neither reads PATH.out nor writes PATH.in. Output does not block: while
 * PATH.out's pipe is full (its reader is slow, stopped, or not there yet) the bytes wait in a buffer of one
 * transmit FIFO (16 bytes), {@link #canTransmit} is false so the UART shows a full transmitter, and a drain
 * thread writes them once the pipe has room and calls the ready callback. So a stalled reader stalls the
 * guest's output as a slow line would, never a vCPU in write(2). A byte beyond the buffer (a guest writing
 * while THRE is clear) is dropped and counted.
 */
public final class PipeBackend implements SerialBackend {
    private static final Logger log = LoggerFactory.getLogger(PipeBackend.class);
    private static final int O_WRONLY = 0x1, O_APPEND = 0x400;
    private static final int POLL_MILLIS = 100;

    private final Path inPath;
    private final Path outPath;
    private final int inFd;
    private final int outFd;
    private final GuestErrorLog guestErrors;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment waitingBytes = arena.allocate(Uart16550.FIFO_SIZE); // guarded by this
    private int waiting;                                                           // guarded by this
    private volatile boolean full;
    private final AtomicLong dropped = new AtomicLong();
    private volatile Runnable transmitReady = () -> { };
    private final Thread drainer;
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
        inFd = Posix.open(inPath.toString(), openFlags(inPath, Posix.O_RDONLY));
        try {
            outFd = Posix.open(outPath.toString(), openFlags(outPath, O_WRONLY | O_APPEND) | Posix.O_NONBLOCK);
        } catch (IOException e) {
            Posix.close(inFd);
            throw e;
        }
        guestErrors = new GuestErrorLog(log, "serial " + describe());
        drainer = Thread.ofPlatform().daemon().name("jhyve-serial-drain-" + outPath.getFileName()).start(this::drain);
    }

    /** Read-write for a FIFO or device, {@code regular} for a regular file; a directory is refused. */
    private static int openFlags(Path p, int regular) throws IOException {
        if (Files.isDirectory(p)) throw new IOException(p + " is a directory");
        return (Files.isRegularFile(p) ? regular : Posix.O_RDWR) | Posix.O_NOCTTY | Posix.O_CLOEXEC;
    }

    @Override
    public synchronized void transmit(byte b) {
        if (closed) return;
        if (waiting > 0) { // the pipe is full: behind the bytes already waiting, up to a FIFO's worth
            if (waiting == Uart16550.FIFO_SIZE) {
                dropped.incrementAndGet();
                guestErrors.report("the guest wrote THR while the transmitter was full (THRE clear); byte dropped");
                return;
            }
            waitingBytes.set(ValueLayout.JAVA_BYTE, waiting++, b);
            return;
        }
        waitingBytes.set(ValueLayout.JAVA_BYTE, 0, b);
        try {
            if (Posix.writeSome(outFd, waitingBytes.asSlice(0, 1)) == 1) return;
        } catch (IOException e) {
            log.debug("{}: {}", outPath, e.getMessage());
            return;
        }
        waiting = 1;
        full = true;
        notifyAll(); // the drainer waits for bytes to drain
    }

    /** Drain thread: waits for bytes held back, then for room in the pipe, writes them and frees the transmitter. */
    private void drain() {
        try {
            while (true) {
                synchronized (this) {
                    while (waiting == 0 && !closed) wait();
                    if (closed) return;
                }
                if (!Posix.pollWritable(outFd, POLL_MILLIS)) continue;
                boolean freed = false;
                synchronized (this) {
                    if (closed) return;
                    int n = Posix.writeSome(outFd, waitingBytes.asSlice(0, waiting));
                    if (n > 0) {
                        MemorySegment.copy(waitingBytes, n, waitingBytes, 0, waiting - n);
                        waiting -= n;
                    }
                    if (waiting == 0) {
                        full = false;
                        freed = true;
                    }
                }
                if (freed) transmitReady.run(); // outside this lock: it takes the UART's
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.warn("serial {}: output stopped: {}", describe(), e.getMessage());
        }
    }

    /** Under the UART's lock: a volatile read, no call. */
    @Override
    public boolean canTransmit() {
        return !full;
    }

    @Override
    public void onTransmitReady(Runnable ready) {
        this.transmitReady = ready;
    }

    /** Bytes the guest wrote while the transmitter was full and its buffer too. */
    long dropped() {
        return dropped.get();
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
            notifyAll();
        }
        if (r != null) r.stop();
        try {
            drainer.join(2 * POLL_MILLIS + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Posix.close(inFd);
        Posix.close(outFd);
        arena.close();
    }
}
