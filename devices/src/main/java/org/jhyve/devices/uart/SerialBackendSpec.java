package org.jhyve.devices.uart;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Objects;

/** A serial backend to open: one the {@code -l comN,<backend>} flag parsed, or one a Java program supplies. */
public sealed interface SerialBackendSpec {
    record Stdio() implements SerialBackendSpec {}

    record AutoPty() implements SerialBackendSpec {}

    record Tcp(InetSocketAddress address) implements SerialBackendSpec {}

    record File(Path path) implements SerialBackendSpec {}

    /**
     * The port on a program's own streams (no {@code -l} form): {@code toGuest} is read for what the guest
     * receives ({@link InputStream#nullInputStream()} for output only), the guest's output is written to
     * {@code fromGuest}. The VM owns both once built and closes them when it closes; see {@link StreamBackend}.
     * {@link SerialConsole} makes a ready pair.
     */
    record Streams(InputStream toGuest, OutputStream fromGuest) implements SerialBackendSpec {
        public Streams {
            Objects.requireNonNull(toGuest, "toGuest (use InputStream.nullInputStream() for output only)");
            Objects.requireNonNull(fromGuest, "fromGuest");
        }
    }
}
