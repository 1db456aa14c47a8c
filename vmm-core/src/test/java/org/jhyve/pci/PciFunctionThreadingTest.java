package org.jhyve.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jhyve.bus.Bus;
import org.junit.jupiter.api.Test;

/**
 * PciFunction's threading rules: configuration cycles come under PciBus's monitor, while other threads (device
 * workers) read the configuration bytes without it, and see each value whole.
 */
class PciFunctionThreadingTest {
    /** A function whose configuration hook asks a "worker" thread for the command bits and waits for its answer. */
    static class AskingFunction extends PciFunction {
        final AtomicReference<String> workerSaw = new AtomicReference<>();

        AskingFunction() {
            super("asking", 0x1af4, 0x1042, 0x018000, 1);
        }

        int command() { return config16(COMMAND); }

        @Override
        protected void configWritten(int offset, int size, int value) {
            // The bus monitor is held here, as for every hook: the worker must get the bytes without it.
            Thread worker = Thread.ofPlatform().start(() -> workerSaw.set("bus master " + busMasterEnabled() + ", INTx disabled " + intxDisabled()));
            try {
                if (!worker.join(Duration.ofSeconds(5))) workerSaw.set("blocked");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void aWorkerReadsTheCommandBitsTheBusJustWroteWithoutTheBusMonitor() {
        PciBus pci = new PciBus(new Bus("io"), new Bus("mmio"));
        AskingFunction fn = new AskingFunction();
        pci.add(new PciAddress(0, 3, 0), fn);
        pci.configWrite(0, 3, 0, PciFunction.COMMAND, 2, PciFunction.COMMAND_BUS_MASTER | PciFunction.COMMAND_INTX_DISABLE);
        assertThat(fn.workerSaw.get()).isEqualTo("bus master true, INTx disabled true");
        pci.configWrite(0, 3, 0, PciFunction.COMMAND, 2, 0);
        assertThat(fn.workerSaw.get()).isEqualTo("bus master false, INTx disabled false");
    }

    @Test
    void aReaderOnAnotherThreadSeesEachWrittenValueWholeNeverHalfOfTwo() throws Exception {
        AskingFunction fn = new AskingFunction() {
            @Override protected void configWritten(int offset, int size, int value) { }
        };
        // Two command values that differ in both bytes: a torn read would show a mix of them.
        int a = PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER, b = PciFunction.COMMAND_IO | PciFunction.COMMAND_INTX_DISABLE;
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger torn = new AtomicInteger();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                int v = fn.command();
                if (v != 0 && v != a && v != b) torn.incrementAndGet();
            }
        });
        try {
            for (int i = 0; i < 20_000; i++) fn.configWrite(PciFunction.COMMAND, 2, (i & 1) == 0 ? a : b);
        } finally {
            done.set(true);
            reader.join();
        }
        assertThat(torn.get()).isZero();
    }
}
