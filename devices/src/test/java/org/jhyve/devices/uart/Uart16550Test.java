package org.jhyve.devices.uart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The 16550A driven through its registers, as a guest driver does. */
class Uart16550Test {
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private final List<Boolean> irqLevels = new ArrayList<>();
    private Uart16550 uart;

    @BeforeEach
    void setUp() {
        uart = new Uart16550(irqLevels::add, sent::write);
    }

    private int in(int reg) {
        return (int) uart.read(reg, 1);
    }

    private void out(int reg, int value) {
        uart.write(reg, 1, value);
    }

    private boolean irq() {
        return !irqLevels.isEmpty() && irqLevels.getLast();
    }

    @Test
    void scratchRegisterHoldsAnyByte() {
        out(7, 0xa5);
        assertThat(in(7)).isEqualTo(0xa5);
    }

    @Test
    void divisorLatchIsReachedThroughDlabAndDoesNotDisturbIer() {
        out(1, 0x05); // IER
        out(3, 0x80); // DLAB
        out(0, 0x0c); // DLL: 9600 baud
        out(1, 0x00); // DLM
        assertThat(in(0)).isEqualTo(0x0c);
        assertThat(in(1)).isZero();
        out(3, 0x03);
        assertThat(in(3)).isEqualTo(0x03);
        assertThat(in(1)).isEqualTo(0x05);
    }

    @Test
    void transmittedBytesReachTheBackendAndLineStatusShowsEmpty() {
        assertThat(in(5) & 0x60).isEqualTo(0x60); // THRE and TEMT
        for (char c : "hi\r\n".toCharArray()) out(0, c);
        assertThat(sent.toString()).isEqualTo("hi\r\n");
        assertThat(in(5) & 0x61).isEqualTo(0x60); // no data ready
    }

    @Test
    void receivedByteSetsDataReadyAndIsReadFromRbr() {
        assertThat(uart.receive((byte) 'x')).isTrue();
        assertThat(in(5) & 0x01).isEqualTo(1);
        assertThat(in(0)).isEqualTo('x');
        assertThat(in(5) & 0x01).isZero();
    }

    @Test
    void withoutFifosOnlyOneByteIsHeldAndNothingIsLost() {
        assertThat(uart.receive((byte) 1)).isTrue();
        assertThat(uart.receive((byte) 2)).as("refused, the backend keeps it").isFalse();
        List<Integer> spaceCallbacks = new ArrayList<>();
        uart.onSpaceAvailable(() -> spaceCallbacks.add(1));
        assertThat(in(0)).isEqualTo(1);
        assertThat(spaceCallbacks).hasSize(1);
        assertThat(in(5) & 0x02).as("no overrun").isZero();
    }

    @Test
    void interruptLineNeedsOut2AndAnEnabledSource() {
        out(1, 0x01); // receive interrupts
        uart.receive((byte) 'a');
        assertThat(irq()).as("OUT2 clear: line stays low").isFalse();
        out(4, 0x08); // OUT2
        assertThat(irq()).isTrue();
        assertThat(in(2) & 0x0f).isEqualTo(0x04); // received data available
        in(0);
        assertThat(irq()).isFalse();
        assertThat(in(2) & 0x0f).isEqualTo(0x01); // none pending
    }

    @Test
    void thrEmptyInterruptIsRaisedByEnablingAndClearedByReadingIir() {
        out(4, 0x08);
        out(1, 0x02);
        assertThat(irq()).isTrue();
        assertThat(in(2) & 0x0f).isEqualTo(0x02);
        assertThat(irq()).as("reading IIR acknowledged THRE").isFalse();
        assertThat(in(2) & 0x0f).isEqualTo(0x01);
        out(0, 'z'); // a write empties THR again at once: THRE is pending anew
        assertThat(irq()).isTrue();
    }

    @Test
    void aTransmitterThatIsNotReadyClearsThreAndTemtAndHoldsBackTheThreInterruptUntilItIs() {
        boolean[] lineFree = {true};
        uart = new Uart16550(irqLevels::add, new Uart16550.Transmitter() {
            @Override public void transmit(byte b) { sent.write(b); }
            @Override public boolean ready() { return lineFree[0]; }
        });
        out(4, 0x08); // OUT2
        out(1, 0x02); // THRE interrupts
        assertThat(in(2) & 0x0f).isEqualTo(0x02);
        lineFree[0] = false; // the backend's buffer fills with this byte
        out(0, 'a');
        assertThat(sent.toString()).isEqualTo("a");
        assertThat(in(5) & 0x60).as("THRE and TEMT while the line is full").isZero();
        assertThat(in(2) & 0x0f).as("no THRE interrupt yet").isEqualTo(0x01);
        assertThat(irq()).isFalse();

        out(4, 0x18); // loopback: the transmitter feeds the receiver, the backend's state does not matter
        assertThat(in(5) & 0x60).isEqualTo(0x60);
        out(4, 0x08);

        lineFree[0] = true;
        uart.transmitterReady();
        assertThat(irq()).as("the held-back THRE interrupt").isTrue();
        assertThat(in(5) & 0x60).isEqualTo(0x60);
        assertThat(in(2) & 0x0f).isEqualTo(0x02);
    }

    @Test
    void iirReportsTheHighestPriorityFirst() {
        out(4, 0x08 | 0x10); // OUT2 + loopback, to produce an overrun from inside
        out(1, 0x0f); // every source
        out(0, 'a'); // fills the 1-byte receiver
        out(0, 'b'); // overrun
        assertThat(in(2) & 0x0f).isEqualTo(0x06); // line status first
        assertThat(in(5) & 0x02).isEqualTo(0x02);
        assertThat(in(2) & 0x0f).as("LSR read cleared the error").isEqualTo(0x04);
        assertThat(in(0)).isEqualTo('a');
        assertThat(in(2) & 0x0f).isEqualTo(0x02); // then THR empty
        assertThat(in(2) & 0x0f).isEqualTo(0x00); // then modem status (loopback changed the lines)
        in(6);
        assertThat(in(2) & 0x0f).isEqualTo(0x01);
    }

    @Test
    void loopbackSendsTransmitterToReceiverAndMirrorsModemLines() {
        out(4, 0x10); // loopback: the modem inputs now follow the (clear) outputs
        in(6); // clear the deltas that entering loopback caused
        out(4, 0x10 | 0x01 | 0x02); // DTR, RTS
        out(0, 'q');
        assertThat(sent.size()).as("nothing leaves in loopback").isZero();
        assertThat(in(0)).isEqualTo('q');
        assertThat(uart.receive((byte) 'x')).as("outside input is cut off").isFalse();
        int msr = in(6);
        assertThat(msr & 0xf0).isEqualTo(0x30); // DSR (from DTR) and CTS (from RTS)
        assertThat(msr & 0x03).as("delta CTS and DSR").isEqualTo(0x03);
        assertThat(in(6) & 0x0f).as("deltas clear on read").isZero();
        out(4, 0x10 | 0x04 | 0x08); // OUT1, OUT2
        assertThat(in(6) & 0xf0).isEqualTo(0xc0); // RI and DCD
        out(4, 0x10);
        assertThat(in(6) & 0x04).as("trailing edge of RI").isEqualTo(0x04);
    }

    @Test
    void outsideLoopbackModemStatusShowsAReadyTerminal() {
        assertThat(in(6) & 0xf0).isEqualTo(0xb0); // DCD, DSR, CTS
    }

    @Test
    void fifoModeHolds16BytesAndReportsItselfInIir() {
        out(2, 0x01);
        assertThat(in(2) & 0xc0).isEqualTo(0xc0);
        for (int i = 0; i < 16; i++) assertThat(uart.receive((byte) i)).isTrue();
        assertThat(uart.receive((byte) 16)).isFalse();
        for (int i = 0; i < 16; i++) assertThat(in(0)).isEqualTo(i);
        assertThat(in(5) & 0x01).isZero();
    }

    @Test
    void fifoResetAndDisableEmptyTheReceiver() {
        out(2, 0x01);
        uart.receive((byte) 1);
        uart.receive((byte) 2);
        out(2, 0x01 | 0x02);
        assertThat(in(5) & 0x01).isZero();
        uart.receive((byte) 3);
        out(2, 0x00);
        assertThat(in(5) & 0x01).isZero();
        assertThat(in(2) & 0xc0).isZero();
    }

    @Test
    void enablingClearingFifosAndLeavingLoopbackTellTheBackendThereIsRoom() {
        List<Integer> spaceCallbacks = new ArrayList<>();
        uart.onSpaceAvailable(() -> spaceCallbacks.add(1));
        uart.receive((byte) 1);
        out(2, 0x01); // FIFOs on: 16 bytes of room instead of 0 (and the held byte is cleared)
        assertThat(spaceCallbacks).hasSize(1);
        uart.receive((byte) 2);
        out(2, 0x01 | 0x02); // clear the receive FIFO
        assertThat(spaceCallbacks).hasSize(2);
        out(4, 0x10); // loopback: the receiver stops listening to the outside
        out(4, 0x00);
        assertThat(spaceCallbacks).hasSize(3);
        out(7, 0x55); // nothing about the receiver
        for (char c : "tx".toCharArray()) out(0, c);
        assertThat(spaceCallbacks).hasSize(3);
    }

    @Test
    void triggerLevelsRaiseDataAvailableExactlyAtTheLevel() {
        int[][] levels = {{0x00, 1}, {0x40, 4}, {0x80, 8}, {0xc0, 14}};
        for (int[] level : levels) {
            setUp();
            out(4, 0x08);
            out(1, 0x01);
            out(2, 0x01 | level[0]);
            for (int i = 1; i < level[1]; i++) {
                uart.receive((byte) i);
                assertThat(in(2) & 0x0f).as("below trigger %d: timeout, not data available", level[1]).isEqualTo(0x0c);
            }
            uart.receive((byte) 0x55);
            assertThat(in(2) & 0x0f).as("at trigger %d", level[1]).isEqualTo(0x04);
            assertThat(irq()).isTrue();
        }
    }

    @Test
    void modemStatusInterruptFollowsDeltaBits() {
        out(4, 0x08 | 0x10);
        in(6); // entering loopback changed the lines: clear those deltas first
        out(1, 0x08);
        assertThat(irq()).isFalse();
        out(4, 0x08 | 0x10 | 0x02); // RTS toggles CTS in loopback
        assertThat(irq()).isTrue();
        in(6);
        assertThat(irq()).isFalse();
    }
}
