package org.jhyve.devices.uart;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * A serial port's console as a pair of Java streams, for a program that embeds jhyve: {@link #output()}
 * reads what the guest prints, live while the VM runs, and reaches end of stream once the VM has closed;
 * {@link #input()} types into the guest. Hand {@link #spec()} to {@code DeviceCatalog.withConsoles} for
 * one port of one VM:
 *
 * <pre>{@code
 * SerialConsole com1 = new SerialConsole();
 * DeviceCatalog catalog = DeviceCatalog.withConsoles(Map.of("com1", com1.spec()));
 * // build and start the VM, then:
 * BufferedReader console = new BufferedReader(new InputStreamReader(com1.output(), StandardCharsets.UTF_8));
 * }</pre>
 *
 * <p>Nobody has to read {@link #output()}: the guest's output waits in a buffer, and once that is full
 * the oldest bytes are dropped and counted ({@link #droppedBytes}), as a UART without flow control loses
 * what nobody reads in time. The guest never waits on the reader; the oldest go rather than the newest so
 * that a late reader still sees the last words (a panic, a prompt). Input waits instead: a write to
 * {@link #input()} blocks while {@value #INPUT_CAPACITY} bytes the guest has not taken yet are queued, and
 * throws an IOException once the VM has closed.
 */
public final class SerialConsole implements AutoCloseable {
    /** 1 MiB: a Linux boot log is a few hundred KiB. */
    public static final int DEFAULT_OUTPUT_CAPACITY = 1 << 20;
    public static final int INPUT_CAPACITY = 64 << 10;

    private final ByteQueue fromGuest;
    private final ByteQueue toGuest;
    private final InputStream output;
    private final OutputStream input;
    private final SerialBackendSpec.Streams spec;

    public SerialConsole() {
        this(DEFAULT_OUTPUT_CAPACITY);
    }

    /** @param outputCapacity the guest's bytes kept for {@link #output()} before the oldest are dropped */
    public SerialConsole(int outputCapacity) {
        fromGuest = new ByteQueue(outputCapacity);
        toGuest = new ByteQueue(INPUT_CAPACITY);
        output = fromGuest.reader();
        input = toGuest.writer(false);
        spec = new SerialBackendSpec.Streams(toGuest.reader(), fromGuest.writer(true));
    }

    /** What the guest printed: reads wait for it; end of stream after the VM has closed and all is read. */
    public InputStream output() {
        return output;
    }

    /** Bytes for the guest to receive; closing it is end of input for the guest's port. */
    public OutputStream input() {
        return input;
    }

    /** The backend for {@code DeviceCatalog.withConsoles}; the VM built with it closes the console's ends. */
    public SerialBackendSpec.Streams spec() {
        return spec;
    }

    /**
     * Ends the console from the program's side, for when no VM will close it (its build failed, say): what
     * the guest printed so far can still be read from {@link #output()}, then end of stream; the guest's
     * further output is dropped and its port sees end of input. Closing the VM is enough otherwise.
     */
    @Override
    public void close() {
        fromGuest.close(false);
        toGuest.close(false);
    }

    /** Bytes of output dropped, oldest first, because the buffer was full. */
    public long droppedBytes() {
        return fromGuest.dropped();
    }
}
