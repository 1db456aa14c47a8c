package org.jhyve.devices.uart;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new pseudo-terminal ({@code autopty}): the guest's port is the master side and the user attaches
 * to the slave path (screen, minicom, picocom). jhyve keeps the slave open itself, in raw mode, so the
 * line settings stick and the master does not see end-of-file while nobody is attached.
 */
public final class PtyBackend implements SerialBackend {
    private static final Logger log = LoggerFactory.getLogger(PtyBackend.class);

    private final int master;
    private final int slave;
    private final String path;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment oneByte = arena.allocate(1);
    private FdReader reader;
    private boolean closed;

    public PtyBackend() throws IOException {
        master = Posix.openPtyMaster();
        try {
            path = Posix.ptsName(master);
            slave = Posix.open(path, Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC);
        } catch (IOException e) {
            Posix.close(master);
            throw e;
        }
        try (Arena a = Arena.ofConfined()) {
            Posix.setTermios(slave, Posix.rawCopy(Posix.getTermios(slave, a), a));
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /** The slave device to attach a terminal program to, e.g. /dev/pts/3. */
    public String path() {
        return path;
    }

    @Override
    public synchronized void transmit(byte b) {
        if (closed) return;
        oneByte.set(ValueLayout.JAVA_BYTE, 0, b);
        try {
            Posix.writeFully(master, oneByte);
        } catch (IOException e) {
            log.debug("pty {}: {}", path, e.getMessage());
        }
    }

    @Override
    public synchronized void connect(SerialInput input) {
        reader = new FdReader(path, master, input);
        reader.start();
    }

    @Override
    public String describe() {
        return path;
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
        Posix.close(slave);
        Posix.close(master);
        arena.close();
    }
}
