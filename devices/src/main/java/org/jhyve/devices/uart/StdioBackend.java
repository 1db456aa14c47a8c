package org.jhyve.devices.uart;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jhyve.posix.Terminal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The port on jhyve's own standard input and output. When stdin is a terminal it is put in raw mode
 * while the port is open (no echo, no line editing, Ctrl-C goes to the guest as 0x03), and restored on
 * close and, should the JVM exit without closing, by a shutdown hook. Output is written by a thread of its own
 * ({@link ThreadedOutput}): a standard output nobody reads (a pipe to a stopped process) fills the UART's
 * transmitter instead of stalling a vCPU in write(2) for good.
 */
public final class StdioBackend implements SerialBackend {
    private static final Logger log = LoggerFactory.getLogger(StdioBackend.class);
    private static final int STDIN = 0;

    private final ThreadedOutput out;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment savedTermios;
    private final Thread restoreHook;
    private FdReader reader;
    private boolean closed;

    public StdioBackend() {
        this(new FileOutputStream(FileDescriptor.out));
    }

    /** Output to {@code stdout} instead of jhyve's standard output (for tests); stdin as above. */
    StdioBackend(OutputStream stdout) {
        this.out = new ThreadedOutput(stdout, "stdio");
        MemorySegment saved = null;
        Thread hook = null;
        if (Terminal.isatty(STDIN)) {
            try {
                saved = Terminal.attributes(STDIN, arena);
                Terminal.setAttributes(STDIN, Terminal.rawCopy(saved, arena));
                MemorySegment toRestore = saved;
                hook = new Thread(() -> restore(toRestore), "jhyve-restore-terminal");
                Runtime.getRuntime().addShutdownHook(hook);
            } catch (IOException e) {
                log.warn("cannot put the terminal in raw mode: {}", e.getMessage());
            }
        }
        this.savedTermios = saved;
        this.restoreHook = hook;
    }

    /** True when stdin was a terminal and is now in raw mode. */
    public boolean isRaw() {
        return savedTermios != null;
    }

    @Override
    public void transmit(byte b) {
        out.transmit(b);
    }

    @Override
    public boolean canTransmit() {
        return out.canTransmit();
    }

    @Override
    public void onTransmitReady(Runnable ready) {
        out.onTransmitReady(ready);
    }

    @Override
    public synchronized void connect(SerialInput input) {
        reader = new FdReader("stdio", STDIN, input);
        reader.start();
    }

    @Override
    public String describe() {
        return "stdio";
    }

    private static void restore(MemorySegment termios) {
        try {
            Terminal.setAttributes(STDIN, termios);
        } catch (IOException e) {
            // Nothing more to do on the way out; the user can run `stty sane`.
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        out.close();
        if (reader != null) reader.stop();
        if (savedTermios != null) {
            restore(savedTermios);
            try {
                Runtime.getRuntime().removeShutdownHook(restoreHook);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook runs anyway, and restoring twice is harmless.
            }
        }
    }
}
