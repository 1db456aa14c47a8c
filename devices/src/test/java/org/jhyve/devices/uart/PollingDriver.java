package org.jhyve.devices.uart;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The guest's side of a UART, as a polling driver does it: through the registers only. */
final class PollingDriver {
    private final Uart16550 uart;

    /**
     * Leaves the FIFOs off, as firmware does: turning them on empties the receiver, which would race with
     * input a backend delivers as soon as it is connected.
     */
    PollingDriver(Uart16550 uart) {
        this.uart = uart;
    }

    void print(String text) {
        for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) uart.write(Uart16550.RBR_THR_DLL, 1, b & 0xff);
    }

    /** Up to {@code n} received bytes: wait for LSR.DR, then read RBR; fewer if none come for 10 s. */
    byte[] read(int n) throws InterruptedException {
        byte[] got = new byte[n];
        int i = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (i < n && System.nanoTime() < deadline) {
            if ((uart.read(Uart16550.LSR, 1) & Uart16550.LSR_DATA_READY) != 0) got[i++] = (byte) uart.read(Uart16550.RBR_THR_DLL, 1);
            else Thread.sleep(1);
        }
        return java.util.Arrays.copyOf(got, i);
    }

    String readString(int n) throws InterruptedException {
        return new String(read(n), StandardCharsets.ISO_8859_1);
    }
}
