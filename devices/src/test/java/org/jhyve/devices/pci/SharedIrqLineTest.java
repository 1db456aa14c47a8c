package org.jhyve.devices.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.irq.IrqLine;
import org.junit.jupiter.api.Test;

/** COM1 and COM3 on IRQ 4: one UART lowering its request must not drop the other's. */
class SharedIrqLineTest {
    @Test
    void theLineIsTheOrOfItsSources() {
        List<Boolean> levels = new ArrayList<>();
        SharedIrqLine line = new SharedIrqLine(levels::add);
        IrqLine com1 = line.source(0), com3 = line.source(1);
        com1.set(true);
        com3.set(true);
        com1.set(false);
        assertThat(levels).as("still asserted for COM3").containsExactly(true);
        com3.set(false);
        assertThat(levels).containsExactly(true, false);
        com3.pulse();
        assertThat(levels).containsExactly(true, false, true, false);
    }
}
