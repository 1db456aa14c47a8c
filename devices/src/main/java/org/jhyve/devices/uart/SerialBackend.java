package org.jhyve.devices.uart;

/**
 * Where a serial port's bytes go and come from on the host. The UART calls {@link #transmit} for each
 * byte the guest sends; after {@link #connect}, the backend pushes what arrives into the port's input.
 */
public sealed interface SerialBackend extends AutoCloseable
        permits StdioBackend, PtyBackend, FileBackend, TcpBackend, StreamBackend {

    void transmit(byte b);

    /** Starts delivering host input into {@code input}. Called once. */
    void connect(SerialInput input);

    /** Where the port is connected, for the log: "stdio", "/dev/pts/3", "tcp 127.0.0.1:5555", "java streams"... */
    String describe();

    @Override
    void close();
}
