package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.devices.log.RecordingLogger;
import org.junit.jupiter.api.Test;

/** Interrupt routing alone: MSI-X when enabled, else the ISR and INTx; refused messages contained. */
class VirtioInterruptsTest {
    final List<Long> messages = new ArrayList<>();
    final AtomicBoolean refuse = new AtomicBoolean();
    final AtomicBoolean intxDisabled = new AtomicBoolean();
    final AtomicBoolean line = new AtomicBoolean();
    final RecordingLogger logger = new RecordingLogger();
    final GuestErrorLog errors = new GuestErrorLog(logger, "test");
    final VirtioInterrupts interrupts = new VirtioInterrupts(3, (address, data) -> {
        if (refuse.get()) throw new IllegalStateException("KVM_SIGNAL_MSI: operation not permitted (errno 1)");
        messages.add(address << 16 | data);
    }, line::set, intxDisabled::get, errors);

    void program(int vector, long address, int data) {
        interrupts.msix().writeTable(16L * vector, 4, address);
        interrupts.msix().writeTable(16L * vector + 8, 4, data);
        interrupts.msix().writeTable(16L * vector + 12, 4, 0);
    }

    @Test
    void withoutMsixTheIsrCollectsBitsAndIntxFollowsUntilTheIsrIsRead() {
        interrupts.queue(1);
        assertThat(line.get()).isTrue();
        interrupts.configChange(0);
        assertThat(interrupts.takeIsr()).isEqualTo(VirtioInterrupts.ISR_QUEUE | VirtioInterrupts.ISR_CONFIG);
        assertThat(line.get()).isFalse();
        assertThat(interrupts.takeIsr()).isZero();
    }

    @Test
    void intxDisabledInTheCommandRegisterSetsTheIsrButNotTheLine() {
        intxDisabled.set(true);
        interrupts.queue(1);
        assertThat(line.get()).isFalse();
        assertThat(interrupts.takeIsr()).isEqualTo(VirtioInterrupts.ISR_QUEUE);
    }

    @Test
    void withMsixTheChosenVectorIsSignalledAndNoVectorIsNone() {
        program(1, 0xfee0_0000L, 0x41);
        interrupts.msix().setControl(true, false);
        interrupts.queue(1);
        interrupts.queue(CommonConfig.NO_VECTOR);
        interrupts.configChange(CommonConfig.NO_VECTOR);
        assertThat(messages).containsExactly(0xfee0_0000L << 16 | 0x41);
        assertThat(line.get()).isFalse();
        assertThat(interrupts.takeIsr()).as("MSI-X does not use the ISR").isZero();
    }

    @Test
    void aRefusedMessageIsCountedAndLoggedNeverThrown() {
        program(0, 0xfee0_0000L, 0x30);
        interrupts.msix().setControl(true, false);
        refuse.set(true);
        interrupts.configChange(0);
        interrupts.configChange(0);
        // From a vCPU: unmasking delivers what is pending, refused as well.
        interrupts.msix().writeTable(12, 4, 1);
        interrupts.configChange(0);
        interrupts.msix().writeTable(12, 4, 0);
        assertThat(errors.count()).isEqualTo(3);
        assertThat(logger.lines().stream().filter(RecordingLogger.Line::hasThrowable)).as("one stack trace").hasSize(1);
    }
}
