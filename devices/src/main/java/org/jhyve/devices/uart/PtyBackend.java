package org.jhyve.devices.uart;

import java.io.IOException;
import java.lang.foreign.Arena;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Posix;
import org.jhyve.posix.Terminal;

/**
 * A new pseudo-terminal ({@code autopty}): the guest's port is the master side and the user attaches
 * to the slave path (screen, minicom, picocom). jhyve keeps the slave open itself, in raw mode, so the
 * line settings stick and the master does not see end-of-file while nobody is attached.
 *
 * <p>Since jhyve holds the slave open it cannot tell whether anyone else reads it, and the terminal holds only
 * a few KiB: the master is non-blocking, and once the terminal is full the guest's output is dropped (counted
 * and logged) until someone reads, as QEMU's pty does while nobody is connected ({@link FdTransmitter},
 * {@code DROP}). Before, the vCPU that printed blocked in write(2) for good once some 20 KiB were written with
 * nobody attached, and closing the VM waited for it.
 */
public final class PtyBackend implements SerialBackend {

    private final int master;
    private final int slave;
    private final String path;
    private final FdTransmitter output;
    private FdReader reader;
    private boolean closed;

    public PtyBackend() throws IOException {
        // Non-blocking: writes to a terminal nobody reads must not stall a vCPU.
        master = Terminal.openPtyMaster(Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        try {
            path = Terminal.ptsName(master);
            slave = Posix.open(path, Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC);
        } catch (IOException e) {
            Posix.closeQuietly(master);
            throw e;
        }
        try (Arena a = Arena.ofConfined()) {
            Terminal.setAttributes(slave, Terminal.rawCopy(Terminal.attributes(slave, a), a));
        } catch (IOException e) {
            Posix.closeQuietly(slave);
            Posix.closeQuietly(master);
            throw e;
        }
        output = new FdTransmitter(master, path, FdTransmitter.WhenFull.DROP);
    }

    /** The slave device to attach a terminal program to, e.g. /dev/pts/3. */
    public String path() {
        return path;
    }

    @Override
    public void transmit(byte b) {
        output.transmit(b);
    }

    /** Bytes dropped because the terminal was full (nobody reading it). */
    long dropped() {
        return output.dropped();
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
        output.close();
        Posix.closeQuietly(slave);
        Posix.closeQuietly(master);
    }
}
