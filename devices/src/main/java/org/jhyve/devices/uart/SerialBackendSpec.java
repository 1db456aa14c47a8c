package org.jhyve.devices.uart;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/** A parsed {@code -l comN,<backend>} backend: what to open, before anything is opened. */
public sealed interface SerialBackendSpec {
    record Stdio() implements SerialBackendSpec {}

    record AutoPty() implements SerialBackendSpec {}

    record Tcp(InetSocketAddress address) implements SerialBackendSpec {}

    record File(Path path) implements SerialBackendSpec {}
}
