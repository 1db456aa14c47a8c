package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.irqchip.ApicRegisters.*;
import static org.jhyve.irqchip.ApicRig.*;

import org.junit.jupiter.api.Test;

class LocalApicX2apicTest {
    private static final long XAPIC = 0xfee0_0000L | APIC_BASE_ENABLE;
    private static final long X2APIC = XAPIC | APIC_BASE_X2APIC;

    private final ApicRig rig = new ApicRig();
    private final LocalApic bsp = rig.add(0);
    private final LocalApic ap = rig.add(0x21);

    private static int msr(int offset) {
        return X2APIC_MSR_FIRST + (offset >> 4);
    }

    @Test
    void apicBaseReadsTheResetValueWithTheBspBitOnlyOnTheBsp() {
        assertThat(bsp.readMsr(MSR_APIC_BASE)).hasValue(0xfee0_0900L);
        assertThat(ap.readMsr(MSR_APIC_BASE)).hasValue(0xfee0_0800L);
    }

    @Test
    void x2apicMsrsFaultInXapicMode() {
        assertThat(bsp.readMsr(msr(ID))).isEmpty();
        assertThat(bsp.writeMsr(msr(TPR), 0x10)).isFalse();
        assertThat(bsp.readMsr(0x900)).isEmpty();
    }

    @Test
    void switchingToX2apicMovesTheRegistersFromTheMmioPageToMsrs() {
        write(ap, TPR, 0x30);
        assertThat(ap.writeMsr(MSR_APIC_BASE, X2APIC)).isTrue();
        assertThat(ap.x2apicMode()).isTrue();
        assertThat(ap.readMsr(msr(TPR))).as("state carries over").hasValue(0x30);
        assertThat(ap.readMsr(msr(ID))).hasValue(0x21);
        assertThat(ap.readMsr(msr(LDR))).hasValue((0x2L << 16) | (1 << 1));
        assertThat(read(ap, ID)).as("the page reads 0").isZero();
        write(ap, TPR, 0x80);
        assertThat(ap.readMsr(msr(TPR))).as("the page ignores writes").hasValue(0x30);
    }

    @Test
    void x2apicMsrRulesFaultLikeTheCpu() {
        ap.writeMsr(MSR_APIC_BASE, X2APIC);
        assertThat(ap.writeMsr(msr(LDR), 1)).as("LDR is read-only").isFalse();
        assertThat(ap.writeMsr(msr(ID), 1)).isFalse();
        assertThat(ap.writeMsr(msr(PPR), 0)).isFalse();
        assertThat(ap.writeMsr(msr(IRR0), 0)).isFalse();
        assertThat(ap.readMsr(msr(DFR))).as("no DFR in x2APIC mode").isEmpty();
        assertThat(ap.readMsr(msr(ICR_HIGH))).isEmpty();
        assertThat(ap.readMsr(msr(APR))).isEmpty();
        assertThat(ap.readMsr(0x804)).as("reserved").isEmpty();
        assertThat(ap.readMsr(msr(EOI))).as("EOI is write-only").isEmpty();
        assertThat(ap.writeMsr(msr(EOI), 1)).isFalse();
        assertThat(ap.writeMsr(msr(EOI), 0)).isTrue();
        assertThat(ap.writeMsr(msr(ESR), 1)).isFalse();
        assertThat(ap.writeMsr(msr(TPR), 0x100)).isFalse();
        assertThat(ap.writeMsr(msr(TPR), 1L << 32)).isFalse();
        assertThat(ap.readMsr(msr(SELF_IPI))).isEmpty();
    }

    @Test
    void selfIpiMsrRaisesAFixedInterruptHere() {
        ap.writeMsr(MSR_APIC_BASE, X2APIC);
        assertThat(ap.writeMsr(msr(SELF_IPI), 0x45)).isTrue();
        assertThat(inject(ap)).isEqualTo(0x45);
        assertThat(ap.writeMsr(msr(SELF_IPI), 0x145)).isFalse();
        assertThat(ap.writeMsr(msr(SELF_IPI), 0x05)).isTrue();
        ap.writeMsr(msr(ESR), 0);
        assertThat(ap.readMsr(msr(ESR))).hasValue(ESR_SEND_ILLEGAL_VECTOR);
    }

    @Test
    void theIcrIsOne64BitMsrWithA32BitDestination() {
        bsp.writeMsr(MSR_APIC_BASE, X2APIC);
        ap.writeMsr(MSR_APIC_BASE, X2APIC);
        long icr = (0x21L << 32) | 0x4031;
        assertThat(bsp.writeMsr(msr(ICR_LOW), icr)).isTrue();
        assertThat(inject(ap)).isEqualTo(0x31);
        assertThat(bsp.readMsr(msr(ICR_LOW))).as("delivery status idle").hasValue(icr);
        assertThat(inject(bsp)).isEqualTo(-1);
    }

    @Test
    void onlyTheSdmsTransitionsAreAllowed() {
        assertThat(bsp.writeMsr(MSR_APIC_BASE, 0xfee0_0000L | APIC_BASE_X2APIC)).as("x2APIC without enable").isFalse();
        assertThat(bsp.writeMsr(MSR_APIC_BASE, XAPIC | (1 << 9))).as("reserved bit").isFalse();
        assertThat(bsp.writeMsr(MSR_APIC_BASE, X2APIC)).isTrue();
        assertThat(bsp.writeMsr(MSR_APIC_BASE, XAPIC)).as("x2APIC to xAPIC").isFalse();
        assertThat(bsp.writeMsr(MSR_APIC_BASE, 0xfee0_0000L)).as("to disabled").isTrue();
        assertThat(bsp.hardwareEnabled()).isFalse();
        assertThat(bsp.writeMsr(MSR_APIC_BASE, X2APIC)).as("disabled to x2APIC").isFalse();
        assertThat(bsp.writeMsr(MSR_APIC_BASE, XAPIC)).isTrue();
        assertThat(bsp.readMsr(MSR_APIC_BASE)).hasValue(XAPIC | APIC_BASE_BSP);
        assertThat(read(bsp, SVR)).as("disabling lost the state").isEqualTo(0xff);
    }

    @Test
    void aHardwareDisabledApicTakesNoMessagesAndItsPinsAreIntrAndNmi() {
        ap.writeMsr(MSR_APIC_BASE, 0xfee0_0000L);
        rig.bus.deliver(fixed(0x21, 0x40, false));
        assertThat(rig.bus.droppedMessages()).isEqualTo(1);
        assertThat(ap.pendingVector()).isEqualTo(-1);
        ap.setLint0(true);
        assertThat(ap.extIntPending()).isTrue();
        ap.setLint1(true);
        assertThat(ap.takeNmi()).isTrue();
    }
}
