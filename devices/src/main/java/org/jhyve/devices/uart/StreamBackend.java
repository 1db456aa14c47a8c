package org.jhyve.devices.uart;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The port on a Java program's own streams ({@link SerialBackendSpec.Streams}). The guest's bytes are
 * written to {@code fromGuest} on the vCPU thread that sends them, so a stream that blocks stalls that
 * vCPU ({@link SerialConsole}'s never does). A daemon thread reads {@code toGuest} into the port's input,
 * waiting while the guest's receiver is full, as {@link FdReader} does for file descriptors.
 *
 * <p>The backend owns both streams and {@link #close} closes them: that is also what ends the reader, as
 * a read blocked on a pipe, a socket or a {@link SerialConsole} returns once its stream is closed. For a
 * stream that ignores close (System.in, say) close waits a bounded time and then leaves the daemon thread
 * behind; it ends at its next byte, which the closed input refuses.
 */
public final class StreamBackend implements SerialBackend {
    private static final Logger log = LoggerFactory.getLogger(StreamBackend.class);
    private static final long JOIN_MILLIS = 1000;

    private final InputStream toGuest;
    private final OutputStream fromGuest;
    private volatile boolean closed;
    private boolean outputFailed; // guarded by this
    private SerialInput input;    // guarded by this
    private Thread reader;        // guarded by this

    public StreamBackend(InputStream toGuest, OutputStream fromGuest) {
        this.toGuest = Objects.requireNonNull(toGuest, "toGuest");
        this.fromGuest = Objects.requireNonNull(fromGuest, "fromGuest");
    }

    /**
     * Writes and flushes each byte. Flushing per byte rather than per line is the simple way to never leave
     * a prompt without a newline ("login: ") sitting in a buffer, and it needs no timer thread: each byte
     * already cost the guest an exit to the VMM, so one more call per byte is noise, and it is free for
     * {@link SerialConsole}. After the stream fails once the output is dropped, logged once: a user's broken
     * stream must not fail the vCPU thread that happens to be printing.
     */
    @Override
    public synchronized void transmit(byte b) {
        if (closed || outputFailed) return;
        try {
            fromGuest.write(b);
            fromGuest.flush();
        } catch (IOException | RuntimeException e) {
            outputFailed = true;
            log.warn("serial (java streams): the output stream failed, dropping the guest's output from now on: {}", e.toString());
        }
    }

    @Override
    public synchronized void connect(SerialInput input) {
        if (closed || reader != null) return;
        this.input = input;
        reader = Thread.ofPlatform().daemon().name("jhyve-serial-streams").start(() -> feed(input));
    }

    private void feed(SerialInput input) {
        byte[] chunk = new byte[1024];
        try {
            int n;
            while ((n = toGuest.read(chunk)) >= 0) { // end of input: the port just goes quiet
                if (!input.put(chunk, 0, n)) return; // closed meanwhile
            }
        } catch (InterruptedException | InterruptedIOException e) {
            Thread.currentThread().interrupt(); // close() asked; the thread ends here
        } catch (IOException | RuntimeException e) {
            if (!closed) log.warn("serial (java streams): input stopped: {}", e.toString());
        }
    }

    @Override
    public String describe() {
        return "java streams";
    }

    @Override
    public void close() {
        Thread r;
        SerialInput in;
        synchronized (this) {
            if (closed) return;
            closed = true;
            r = reader;
            in = input;
            closeQuietly(fromGuest, "output"); // under the lock: never while a transmit is writing
        }
        if (in != null) in.close(); // fails a put waiting for the guest to make room
        closeQuietly(toGuest, "input"); // returns a read blocked on a pipe, socket or SerialConsole
        if (r == null || r == Thread.currentThread()) return;
        r.interrupt(); // for streams that answer interrupts rather than close (interruptible channels)
        try {
            r.join(JOIN_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (r.isAlive()) log.warn("serial (java streams): the input stream did not end when closed; leaving its reader thread behind");
    }

    private static void closeQuietly(AutoCloseable stream, String which) {
        try {
            stream.close();
        } catch (Exception e) {
            log.debug("serial (java streams): closing the {} stream: {}", which, e.toString());
        }
    }
}
