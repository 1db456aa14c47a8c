package org.jhyve.devices.uart;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Terminals whose other side nobody reads: {@code autopty} before anyone attaches (the guest's output is
 * dropped and counted once the terminal is full, never blocking the vCPU), and a device path (a pty slave)
 * whose master stops reading (the transmitter fills, as a slow line; nothing is lost).
 */
@Timeout(60)
class TerminalNobodyReadsTest {
    @Test
    void autoptyWithNobodyAttachedDropsTheOverflowAndNeverBlocksTheGuest() throws Exception {
        PtyBackend pty = new PtyBackend();
        SerialPort port = new SerialPort("com1", level -> { }, pty);
        CompletableFuture<Void> guest = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 200_000; i++) port.uart().write(Uart16550.RBR_THR_DLL, 1, 'x');
        }, r -> Thread.ofPlatform().daemon().start(r));
        guest.get(20, TimeUnit.SECONDS); // before: blocked in write(2) for good after some 20 KiB
        assertThat(pty.dropped()).as("bytes the full terminal could not take").isPositive();
        CompletableFuture<Void> closing = CompletableFuture.runAsync(port::close);
        closing.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aDevicePathWhoseOtherSideStopsReadingFillsTheTransmitterAndLosesNothing() throws Exception {
        PtyBackend far = new PtyBackend(); // its master is the other side: read only while its UART is drained
        int total = 100_000;
        try (SerialPort farPort = new SerialPort("com2", level -> { }, far);
             SerialPort port = new SerialPort("com1", level -> { }, SerialBackends.open(new SerialBackendSpec.File(Path.of(far.path()))))) {
            Uart16550 uart = port.uart();
            AtomicInteger written = new AtomicInteger();
            AtomicBoolean sawFull = new AtomicBoolean();
            CompletableFuture<Void> guest = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < total; i++) {
                    while ((uart.read(Uart16550.LSR, 1) & Uart16550.LSR_THR_EMPTY) == 0) {
                        sawFull.set(true);
                        Thread.onSpinWait();
                    }
                    uart.write(Uart16550.RBR_THR_DLL, 1, 'a' + i % 26);
                    written.incrementAndGet();
                }
            }, r -> Thread.ofPlatform().daemon().start(r));
            int before;
            do {
                before = written.get();
                Thread.sleep(500);
            } while (written.get() != before && !guest.isDone());
            assertThat(guest).as("the guest waits for the transmitter").isNotDone();
            assertThat(sawFull).isTrue();

            PollingDriver farGuest = new PollingDriver(farPort.uart());
            byte[] got = farGuest.read(total);
            guest.get(30, TimeUnit.SECONDS);
            assertThat(got).hasSize(total);
            for (int i = 0; i < total; i++) {
                if (got[i] != 'a' + i % 26) throw new AssertionError("byte " + i + " is " + got[i]);
            }
        }
    }
}
