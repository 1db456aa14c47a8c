package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.irqchip.ApicRegisters.*;
import static org.jhyve.irqchip.ApicRig.*;

import org.junit.jupiter.api.Test;

class LocalApicPriorityTest {
    private final ApicRig rig = new ApicRig();
    private final LocalApic apic = rig.add(0);

    @Test
    void pprIsTheTprOrTheInServiceClassWhicheverIsHigher() {
        write(apic, TPR, 0x35);
        assertThat(read(apic, PPR)).isEqualTo(0x35);
        apic.deliver(fixed(0, 0x51, false));
        assertThat(inject(apic)).isEqualTo(0x51);
        assertThat(read(apic, PPR)).isEqualTo(0x50);
        write(apic, TPR, 0x62);
        assertThat(read(apic, PPR)).isEqualTo(0x62);
        // Same class: the TPR wins, sub-class bits and all.
        write(apic, TPR, 0x5f);
        assertThat(read(apic, PPR)).isEqualTo(0x5f);
    }

    @Test
    void anInterruptPassesOnlyWhenItsClassIsAboveThePprsClass() {
        write(apic, TPR, 0x40);
        apic.deliver(fixed(0, 0x4f, false));
        assertThat(apic.pendingVector()).as("same class as the TPR").isEqualTo(-1);
        write(apic, TPR, 0x3f);
        assertThat(apic.pendingVector()).isEqualTo(0x4f);
        write(apic, TPR, 0x40);
        apic.deliver(fixed(0, 0x50, false));
        assertThat(apic.pendingVector()).isEqualTo(0x50);
    }

    @Test
    void lowerVectorsWaitBehindAHigherOneInServiceAndEoiLetsTheNextThrough() {
        apic.deliver(fixed(0, 0x80, false));
        assertThat(inject(apic)).isEqualTo(0x80);
        apic.deliver(fixed(0, 0x60, false));
        apic.deliver(fixed(0, 0x85, false));
        assertThat(apic.pendingVector()).as("0x85 is in 0x80's class").isEqualTo(-1);
        apic.deliver(fixed(0, 0x90, false));
        assertThat(inject(apic)).isEqualTo(0x90);
        assertThat(bit(apic, ISR0, 0x80)).isTrue();
        assertThat(bit(apic, ISR0, 0x90)).isTrue();

        eoi(apic);
        assertThat(bit(apic, ISR0, 0x90)).as("EOI clears the highest in service").isFalse();
        assertThat(bit(apic, ISR0, 0x80)).isTrue();
        assertThat(apic.pendingVector()).isEqualTo(-1);
        eoi(apic);
        assertThat(inject(apic)).isEqualTo(0x85);
        eoi(apic);
        assertThat(inject(apic)).isEqualTo(0x60);
        eoi(apic);
        assertThat(apic.pendingVector()).isEqualTo(-1);
        assertThat(read(apic, PPR)).isZero();
    }

    @Test
    void levelTriggeredVectorsSetTheTmrAndTheirEoiReachesTheIoapic() {
        rig.bus.deliver(fixed(0, 0x70, true));
        assertThat(bit(apic, TMR0, 0x70)).isTrue();
        assertThat(bit(apic, IRR0, 0x70)).isTrue();
        assertThat(inject(apic)).isEqualTo(0x70);
        eoi(apic);
        assertThat(rig.eois).containsExactly(0x70);

        rig.bus.deliver(fixed(0, 0x70, false));
        assertThat(bit(apic, TMR0, 0x70)).as("an edge delivery clears the TMR bit").isFalse();
        inject(apic);
        eoi(apic);
        assertThat(rig.eois).containsExactly(0x70);
        // A gratuitous EOI (nothing in service) broadcasts nothing.
        eoi(apic);
        assertThat(rig.eois).hasSize(1);
    }

    @Test
    void illegalVectorsAreRefusedIntoTheEsrWhichLatchesOnWrite() {
        apic.deliver(fixed(0, 5, false));
        assertThat(apic.pendingVector()).isEqualTo(-1);
        assertThat(bit(apic, IRR0, 5)).isFalse();
        assertThat(read(apic, ESR)).as("not latched yet").isZero();
        assertThat(latchEsr(apic)).isEqualTo(ESR_RECEIVE_ILLEGAL_VECTOR);
        assertThat(latchEsr(apic)).as("the latch cleared what it took").isZero();

        write(apic, LVT_ERROR, 0xee);
        write(apic, ICR_HIGH, 0);
        write(apic, ICR_LOW, 0x0f); // fixed IPI, vector 15
        assertThat(latchEsr(apic)).isEqualTo(ESR_SEND_ILLEGAL_VECTOR);
        assertThat(apic.pendingVector()).as("the error LVT's interrupt").isEqualTo(0xee);
        assertThat(rig.bus.droppedMessages()).isZero();
    }

    @Test
    void softwareDisableMasksTheLvtsAndAcceptsOnlyNmiInitAndStartup() {
        write(apic, LVT_TIMER, 0x40);
        write(apic, LVT_LINT1, 0x400);
        write(apic, SVR, 0xff);
        assertThat(read(apic, LVT_TIMER) & LVT_MASKED).isNotZero();
        assertThat(read(apic, LVT_LINT1) & LVT_MASKED).isNotZero();
        write(apic, LVT_TIMER, 0x40);
        assertThat(read(apic, LVT_TIMER) & LVT_MASKED).as("unmasking is ignored while disabled").isNotZero();

        apic.deliver(fixed(0, 0x40, false));
        assertThat(bit(apic, IRR0, 0x40)).isFalse();
        apic.deliver(ApicMessage.fromDevice(0, false, DeliveryMode.NMI, 0, false));
        assertThat(apic.takeNmi()).isTrue();
        assertThat(apic.takeNmi()).isFalse();
        apic.deliver(ApicMessage.fromDevice(0, false, DeliveryMode.INIT, 0, false));
        apic.deliver(ApicMessage.fromDevice(0, false, DeliveryMode.STARTUP, 0x9a, false));
        assertThat(rig.listener(apic).events).containsExactly("init", "startup 9a");
    }

    @Test
    void startupCountsOnlyAfterInitAndOnlyOnce() {
        LocalApic ap = rig.add(1);
        ap.deliver(ApicMessage.fromDevice(1, false, DeliveryMode.STARTUP, 0x10, false));
        ap.deliver(ApicMessage.fromDevice(1, false, DeliveryMode.INIT, 0, false));
        ap.deliver(ApicMessage.fromDevice(1, false, DeliveryMode.STARTUP, 0x9a, false));
        ap.deliver(ApicMessage.fromDevice(1, false, DeliveryMode.STARTUP, 0x9b, false));
        assertThat(rig.listener(ap).events).containsExactly("init", "startup 9a");
    }

    @Test
    void initResetsTheRegistersButNotTheId() {
        write(apic, TPR, 0x20);
        apic.deliver(fixed(0, 0x40, false));
        apic.deliver(ApicMessage.fromDevice(0, false, DeliveryMode.INIT, 0, false));
        assertThat(read(apic, TPR)).isZero();
        assertThat(bit(apic, IRR0, 0x40)).isFalse();
        assertThat(read(apic, SVR)).isEqualTo(0xff);
        assertThat(read(apic, DFR)).isEqualTo(0xffff_ffff);
        assertThat(read(apic, LVT_TIMER)).isEqualTo(LVT_MASKED);
        assertThat(read(apic, ID)).isEqualTo(0);
    }

    @Test
    void everyDeliverableChangeTellsTheVcpu() {
        ApicRig.Recorder vcpu = rig.listener(apic);
        write(apic, TPR, 0xf0);
        apic.deliver(fixed(0, 0x40, false));
        int masked = vcpu.pendingCalls;
        write(apic, TPR, 0);
        assertThat(vcpu.pendingCalls).as("lowering the TPR lets 0x40 through").isEqualTo(masked + 1);
        apic.setTpr(0xf0);
        apic.setTpr(0);
        assertThat(vcpu.pendingCalls).isEqualTo(masked + 2);
        apic.deliver(ApicMessage.fromDevice(0, false, DeliveryMode.NMI, 0, false));
        assertThat(vcpu.pendingCalls).isEqualTo(masked + 3);
    }

    @Test
    void lint0InExtIntModeFollowsThePicsIntrAndLint1NmiIsAnEdge() {
        // The BSP leaves reset with LINT0 in ExtINT mode, unmasked (virtual wire).
        assertThat(apic.extIntPending()).isFalse();
        apic.setLint0(true);
        assertThat(apic.extIntPending()).isTrue();
        apic.setLint0(false);
        assertThat(apic.extIntPending()).isFalse();
        write(apic, LVT_LINT0, LVT_MASKED | 0x700);
        apic.setLint0(true);
        assertThat(apic.extIntPending()).as("masked LINT0").isFalse();

        write(apic, LVT_LINT1, 0x400);
        apic.setLint1(true);
        apic.setLint1(true);
        assertThat(apic.takeNmi()).isTrue();
        assertThat(apic.takeNmi()).as("a held level is one NMI").isFalse();
    }

    @Test
    void cr8IsTheTprsTopNibble() {
        apic.setTpr(0x9 << 4);
        assertThat(read(apic, TPR) >> 4).isEqualTo(9);
        write(apic, TPR, 0xa7);
        assertThat(apic.tpr() >> 4).isEqualTo(0xa);
    }

    @Test
    void oddAccessesReadZeroAndChangeNothing() {
        write(apic, TPR, 0x30);
        assertThat(apic.readMmio(TPR + 4, 4)).isZero();
        assertThat(apic.readMmio(TPR, 2)).isZero();
        apic.writeMmio(TPR, 1, 0x80);
        apic.writeMmio(TPR + 8, 4, 0x80);
        apic.writeMmio(0x1000, 4, 0x80);
        apic.writeMmio(-16, 4, 0x80);
        assertThat(read(apic, TPR)).isEqualTo(0x30);
        // A reserved register reads 0 and sets ESR "illegal register address".
        assertThat(read(apic, 0x040)).isZero();
        assertThat(latchEsr(apic)).isEqualTo(ESR_ILLEGAL_REGISTER);
        assertThat(read(apic, VERSION)).isEqualTo(0x0006_0014);
    }
}
