package org.jhyve.devices.uart;

import org.jhyve.irq.IrqLine;

/** A UART wired to its backend: the guest's output goes to the backend, the backend's input to the UART. */
public final class SerialPort implements AutoCloseable {
    private final String name;
    private final Uart16550 uart;
    private final SerialBackend backend;
    private final SerialInput input;

    public SerialPort(String name, IrqLine irq, SerialBackend backend) {
        this.name = name;
        this.backend = backend;
        this.uart = new Uart16550(irq, new Uart16550.Transmitter() {
            @Override
            public void transmit(byte b) {
                backend.transmit(b);
            }

            @Override
            public boolean ready() {
                return backend.canTransmit();
            }
        });
        backend.onTransmitReady(uart::transmitterReady);
        this.input = new SerialInput(uart);
        backend.connect(input);
    }

    public String name() { return name; }

    public Uart16550 uart() { return uart; }

    public SerialBackend backend() { return backend; }

    @Override
    public void close() {
        input.close();
        backend.close();
    }
}
