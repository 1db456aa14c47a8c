package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CascadedPicsTest {
    private final List<Boolean> intr = new ArrayList<>();
    private final CascadedPics pics = new CascadedPics(intr::add);

    /** Linux's init_8259A: master vectors 0x30, slave 0x38, slave on IRQ2, 8086 mode, normal EOI. */
    @BeforeEach
    void initialiseLikeLinux() {
        initialise(0x30, 0x38, false);
    }

    private void initialise(int masterBase, int slaveBase, boolean autoEoi) {
        int icw4 = autoEoi ? 0x03 : 0x01;
        master(0, 0x11);
        master(1, masterBase);
        master(1, 0x04);
        master(1, icw4);
        slave(0, 0x11);
        slave(1, slaveBase);
        slave(1, 0x02);
        slave(1, icw4);
        master(1, 0x00);
        slave(1, 0x00);
    }

    private void master(int offset, int value) {
        pics.masterPorts().write(offset, 1, value);
    }

    private void slave(int offset, int value) {
        pics.slavePorts().write(offset, 1, value);
    }

    private int readMaster(int offset) {
        return (int) pics.masterPorts().read(offset, 1);
    }

    private int readSlave(int offset) {
        return (int) pics.slavePorts().read(offset, 1);
    }

    private void pulse(int irq) {
        pics.setIrq(irq, true);
        pics.setIrq(irq, false);
    }

    @Test
    void slaveRequestReachesTheCpuThroughMasterIrq2WithTheSlavesVector() {
        pulse(12);
        assertThat(pics.pending()).isTrue();
        assertThat(intr).containsExactly(true);
        assertThat(pics.acknowledge()).isEqualTo(0x38 + 4);
        assertThat(pics.pending()).isFalse();
        assertThat(intr).containsExactly(true, false);
        slave(0, 0x20);
        master(0, 0x20);
        master(0, 0x0B); // read ISR
        slave(0, 0x0B);
        assertThat(readMaster(0)).isZero();
        assertThat(readSlave(0)).isZero();
    }

    @Test
    void higherPriorityFirstAndLowerWaitsForTheEoi() {
        pulse(4);
        pulse(1);
        assertThat(pics.acknowledge()).isEqualTo(0x31);
        assertThat(pics.pending()).as("IRQ4 is below IRQ1 in service").isFalse();
        pulse(0);
        assertThat(pics.acknowledge()).as("IRQ0 nests above IRQ1").isEqualTo(0x30);
        master(0, 0x20); // non-specific EOI: clears IRQ0, the highest in service
        assertThat(pics.pending()).isFalse();
        master(0, 0x0B);
        assertThat(readMaster(0)).as("IRQ1 still in service").isEqualTo(1 << 1);
        master(0, 0x20);
        assertThat(pics.acknowledge()).isEqualTo(0x34);
    }

    @Test
    void specificEoiClearsOnlyThatLevel() {
        pulse(3);
        pics.acknowledge();
        pulse(1);
        pics.acknowledge();
        master(0, 0x63); // specific EOI for IRQ3
        master(0, 0x0B);
        assertThat(readMaster(0)).isEqualTo(1 << 1);
    }

    @Test
    void rotateOnEoiMakesTheServedLevelTheLowest() {
        pulse(1);
        pics.acknowledge();
        master(0, 0xA0); // rotate on non-specific EOI: IRQ1 lowest, IRQ2 highest
        pulse(1);
        pulse(3);
        assertThat(pics.acknowledge()).isEqualTo(0x33);
    }

    @Test
    void spuriousIrq7WhenTheRequestWentAway() {
        // ELCR: IRQ 5 level-triggered; it is asserted, then deasserted before the INTA cycle.
        pics.elcrPorts().write(0, 1, 1 << 5);
        pics.setIrq(5, true);
        assertThat(pics.pending()).isTrue();
        pics.setIrq(5, false);
        assertThat(pics.pending()).isFalse();
        assertThat(pics.acknowledge()).isEqualTo(0x37);
        master(0, 0x0B);
        assertThat(readMaster(0)).as("a spurious IRQ7 sets no ISR bit").isZero();
    }

    @Test
    void spuriousIrq15LeavesIrq2InServiceOnTheMaster() {
        pics.elcrPorts().write(1, 1, 1 << 3); // IRQ 11 level
        pics.setIrq(11, true);
        pics.setIrq(11, false); // gone, but the master latched the cascade's edge
        assertThat(pics.acknowledge()).isEqualTo(0x38 + 7);
        master(0, 0x0B);
        slave(0, 0x0B);
        assertThat(readMaster(0)).isEqualTo(1 << 2);
        assertThat(readSlave(0)).isZero();
    }

    @Test
    void autoEoiLeavesNothingInService() {
        initialise(0x20, 0x28, true);
        pulse(1);
        assertThat(pics.acknowledge()).isEqualTo(0x21);
        master(0, 0x0B);
        assertThat(readMaster(0)).isZero();
        pulse(1);
        assertThat(pics.pending()).as("no EOI needed").isTrue();
    }

    @Test
    void levelRequestStaysUntilDeassertedAndComesBackAfterEoi() {
        pics.elcrPorts().write(0, 2, 0x0C20 | 0x07); // IRQ 5, 10, 11 level; 0-2 cannot be
        assertThat(pics.elcrPorts().read(0, 2)).isEqualTo(0x0C20);
        pics.setIrq(10, true);
        assertThat(pics.acknowledge()).isEqualTo(0x3A);
        assertThat(pics.pending()).isFalse();
        slave(0, 0x20);
        master(0, 0x20);
        assertThat(pics.pending()).as("still asserted").isTrue();
        assertThat(pics.acknowledge()).isEqualTo(0x3A);
        pics.setIrq(10, false);
        slave(0, 0x20);
        master(0, 0x20);
        assertThat(pics.pending()).isFalse();
    }

    @Test
    void edgeRequestIsLatchedOnceAndClearedByTheAcknowledge() {
        pics.setIrq(3, true);
        pics.setIrq(3, true);
        assertThat(pics.acknowledge()).isEqualTo(0x33);
        master(0, 0x20);
        assertThat(pics.pending()).as("a held line is no new edge").isFalse();
    }

    @Test
    void maskAndOcw3Reads() {
        master(1, 1 << 6);
        assertThat(readMaster(1)).isEqualTo(1 << 6);
        pulse(6);
        assertThat(pics.pending()).isFalse();
        master(0, 0x0A); // read IRR
        assertThat(readMaster(0)).isEqualTo(1 << 6);
        master(1, 0);
        assertThat(pics.pending()).isTrue();
        pics.acknowledge();
        master(0, 0x0A);
        assertThat(readMaster(0)).isZero();
        master(0, 0x0B);
        assertThat(readMaster(0)).isEqualTo(1 << 6);
    }

    @Test
    void pollCommandAcknowledgesTheHighestRequest() {
        pulse(5);
        master(0, 0x0C);
        assertThat(readMaster(0)).isEqualTo(0x80 | 5);
        master(0, 0x0B);
        assertThat(readMaster(0)).isEqualTo(1 << 5);
    }

    @Test
    void icw2SetsTheVectorBaseAndIrqsOutOfRangeAreIgnored() {
        initialise(0x08, 0x70, false);
        pulse(0);
        assertThat(pics.acknowledge()).isEqualTo(0x08);
        pics.setIrq(16, true);
        pics.setIrq(-1, true);
        pics.setIrq(2, true);
        master(0, 0x20);
        assertThat(pics.pending()).isFalse();
        assertThat(pics.masterPorts().read(5, 1)).isEqualTo(0xFF);
    }
}
