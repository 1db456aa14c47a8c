package org.jhyve.devices.uart;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.jhyve.vm.DeviceConfigException;

/** Parses and opens serial backends, as the {@code -l} flag names them. */
public final class SerialBackends {
    private SerialBackends() {}

    /** The lines {@code jhyve -l help} prints. */
    public static List<String> describe() {
        return List.of(
                "stdio          jhyve's standard input and output (a terminal is put in raw mode)",
                "autopty        a new pseudo-terminal; its path is printed (attach with screen or picocom)",
                "tcp=IP:PORT    a listening TCP socket, one client at a time, no authentication (e.g. tcp=127.0.0.1:5555)",
                "PATH           a file to write the output to, or a device to use both ways;",
                "               with PATH.in and PATH.out present (FIFOs: mkfifo), input from PATH.in, output to PATH.out");
    }

    /** @throws IllegalArgumentException with a one-line message naming the bad value */
    public static SerialBackendSpec parse(String spec) {
        if (spec == null || spec.isEmpty()) throw new IllegalArgumentException("missing serial backend (stdio, autopty, tcp=IP:PORT or a path)");
        if (spec.equals("stdio")) return new SerialBackendSpec.Stdio();
        if (spec.equals("autopty")) return new SerialBackendSpec.AutoPty();
        if (spec.startsWith("tcp=")) return new SerialBackendSpec.Tcp(parseAddress(spec.substring(4)));
        if (spec.contains("/") || spec.contains(".")) return new SerialBackendSpec.File(Path.of(spec));
        throw new IllegalArgumentException("unknown serial backend '" + spec + "' (stdio, autopty, tcp=IP:PORT or a path)");
    }

    private static InetSocketAddress parseAddress(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) throw new IllegalArgumentException("tcp= needs IP:PORT, got '" + hostPort + "'");
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad TCP port in '" + hostPort + "'");
        }
        if (port < 0 || port > 65535) throw new IllegalArgumentException("TCP port must be 0-65535: " + port);
        if (!host.matches("[0-9.]+|[0-9a-fA-F:]+|localhost")) {
            throw new IllegalArgumentException("tcp= takes an IP address, not '" + host + "'");
        }
        return new InetSocketAddress(host, port);
    }

    /** Opens the backend; host failures become a {@link DeviceConfigException} naming what failed. */
    public static SerialBackend open(SerialBackendSpec spec) {
        try {
            return switch (spec) {
                case SerialBackendSpec.Stdio s -> new StdioBackend();
                case SerialBackendSpec.AutoPty p -> new PtyBackend();
                case SerialBackendSpec.Tcp t -> new TcpBackend(t.address());
                case SerialBackendSpec.File f -> PipeBackend.pairExists(f.path()) ? new PipeBackend(f.path()) : new FileBackend(f.path());
                case SerialBackendSpec.Streams s -> new StreamBackend(s.toGuest(), s.fromGuest());
            };
        } catch (IOException e) {
            throw new DeviceConfigException(e.getMessage(), e);
        }
    }
}
