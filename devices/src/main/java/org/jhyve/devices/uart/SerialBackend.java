package org.jhyve.devices.uart;

/**
 * Where a serial port's bytes go and come from on the host. The UART calls {@link #transmit} for each
 * byte the guest sends; after {@link #connect}, the backend pushes what arrives into the port's input.
 *
 * <p>Back-pressure on output, as a slow line gives: a backend that buffers what its host side has not taken
 * yet (a socket client that stops reading) says so with {@link #canTransmit}, and the UART then shows a full
 * transmitter (THRE and TEMT clear) until the backend calls the {@link #onTransmitReady} callback. Backends
 * whose writes simply block the sending vCPU (files, terminals) keep the defaults.
 *
 * <p>Threads: {@link #transmit} and {@link #canTransmit} are called on vCPU threads, under no lock of the
 * backend's caller except that {@link #canTransmit} may be called under the UART's lock: it must not block or
 * call back into the UART. The ready callback may run on any thread.
 */
public sealed interface SerialBackend extends AutoCloseable
        permits StdioBackend, PtyBackend, FileBackend, PipeBackend, TcpBackend, StreamBackend {

    void transmit(byte b);

    /** Whether {@link #transmit} can take a transmit FIFO's worth of bytes (16) now without dropping any. */
    default boolean canTransmit() {
        return true;
    }

    /** Registers what to run once {@link #canTransmit} has turned true again. Called once, before any transmit. */
    default void onTransmitReady(Runnable ready) {}

    /** Starts delivering host input into {@code input}. Called once. */
    void connect(SerialInput input);

    /** Where the port is connected, for the log: "stdio", "/dev/pts/3", "tcp 127.0.0.1:5555", "java streams"... */
    String describe();

    @Override
    void close();
}
