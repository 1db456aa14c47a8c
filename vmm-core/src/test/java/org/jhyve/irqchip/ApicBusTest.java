package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.irqchip.ApicRegisters.*;
import static org.jhyve.irqchip.ApicRig.*;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.irqchip.ApicMessage.Shorthand;
import org.junit.jupiter.api.Test;

class ApicBusTest {
    private static final int VECTOR = 0x41;
    private static final int LOGICAL = 1 << 11;

    private final ApicRig rig = new ApicRig();
    private final LocalApic a0 = rig.add(0);
    private final LocalApic a1 = rig.add(1);
    private final LocalApic a2 = rig.add(2);

    /** An xAPIC IPI from {@code from}: ICR high then low, as a guest writes them. */
    private static void ipi(LocalApic from, int destination, int low) {
        write(from, ICR_HIGH, destination << 24);
        write(from, ICR_LOW, low);
    }

    /** Which of the three APICs have VECTOR pending (each takes and EOIs it, ready for the next). */
    private List<Integer> receivers() {
        List<Integer> ids = new ArrayList<>();
        for (LocalApic a : List.of(a0, a1, a2)) {
            if (a.pendingVector() != VECTOR) continue;
            ids.add(a.apicId());
            inject(a);
            eoi(a);
        }
        return ids;
    }

    @Test
    void physicalDestinationIsTheApicIdAnd0xffIsEveryone() {
        ipi(a0, 2, VECTOR);
        assertThat(receivers()).containsExactly(2);
        ipi(a1, 0xff, VECTOR);
        assertThat(receivers()).containsExactly(0, 1, 2);
        ipi(a1, 7, VECTOR);
        assertThat(receivers()).isEmpty();
        assertThat(rig.bus.droppedMessages()).isEqualTo(1);
    }

    @Test
    void logicalFlatMatchesAnyBitOfTheLdr() {
        write(a1, LDR, 0x02 << 24);
        write(a2, LDR, 0x04 << 24);
        ipi(a0, 0x06, LOGICAL | VECTOR);
        assertThat(receivers()).containsExactly(1, 2);
        ipi(a0, 0x02, LOGICAL | VECTOR);
        assertThat(receivers()).containsExactly(1);
        ipi(a0, 0x01, LOGICAL | VECTOR);
        assertThat(receivers()).as("a0's LDR is 0").isEmpty();
    }

    @Test
    void logicalClusterMatchesTheClusterThenAMemberBit() {
        for (LocalApic a : List.of(a0, a1, a2)) write(a, DFR, 0x0fff_ffff);
        write(a0, LDR, 0x21 << 24);
        write(a1, LDR, 0x11 << 24);
        write(a2, LDR, 0x12 << 24);
        ipi(a0, 0x13, LOGICAL | VECTOR);
        assertThat(receivers()).containsExactly(1, 2);
        ipi(a0, 0x12, LOGICAL | VECTOR);
        assertThat(receivers()).containsExactly(2);
        ipi(a0, 0x23, LOGICAL | VECTOR);
        assertThat(receivers()).as("cluster 2 has only a0").containsExactly(0);
        ipi(a0, 0x31, LOGICAL | VECTOR);
        assertThat(receivers()).isEmpty();
    }

    @Test
    void x2apicClusterUsesTheDerivedLdr() {
        ApicRig x2 = new ApicRig();
        List<LocalApic> apics = new ArrayList<>();
        for (int id : new int[] {0, 1, 16, 17}) {
            LocalApic a = x2.add(id);
            a.writeMsr(MSR_APIC_BASE, 0xfee0_0000L | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
            apics.add(a);
        }
        x2.bus.deliver(new ApicMessage(0b10, true, DeliveryMode.FIXED, VECTOR, false, true, Shorthand.NONE, 0));
        assertThat(apics.stream().map(a -> a.pendingVector() == VECTOR).toList()).containsExactly(false, true, false, false);
        x2.bus.deliver(new ApicMessage((1 << 16) | 0b11, true, DeliveryMode.FIXED, VECTOR + 1, false, true, Shorthand.NONE, 0));
        assertThat(apics.stream().map(a -> a.pendingVector() == VECTOR + 1).toList()).containsExactly(false, false, true, true);
        // 0xFF from an x2APIC sender is APIC ID 255, not a broadcast; 0xFFFFFFFF is.
        x2.bus.deliver(new ApicMessage(0xff, false, DeliveryMode.FIXED, VECTOR + 2, false, true, Shorthand.NONE, 0));
        assertThat(x2.bus.droppedMessages()).isEqualTo(1);
        x2.bus.deliver(new ApicMessage(0xffff_ffff, false, DeliveryMode.FIXED, VECTOR + 3, false, true, Shorthand.NONE, 0));
        assertThat(apics.stream().allMatch(a -> a.pendingVector() == VECTOR + 3)).isTrue();
    }

    @Test
    void shorthandsIgnoreTheDestination() {
        ipi(a1, 0, (1 << 18) | VECTOR);
        assertThat(receivers()).as("self").containsExactly(1);
        ipi(a1, 0, (2 << 18) | VECTOR);
        assertThat(receivers()).as("all including self").containsExactly(0, 1, 2);
        ipi(a1, 0, (3 << 18) | VECTOR);
        assertThat(receivers()).as("all but self").containsExactly(0, 2);
    }

    @Test
    void lowestPriorityGoesToExactlyTheLowestPprAndTiesToTheLowestId() {
        write(a0, TPR, 0x30);
        write(a1, TPR, 0x10);
        write(a2, TPR, 0x20);
        rig.bus.deliver(ApicMessage.fromDevice(0xff, false, DeliveryMode.LOWEST_PRIORITY, VECTOR, false));
        assertThat(receivers()).containsExactly(1);

        write(a2, TPR, 0x10);
        rig.bus.deliver(ApicMessage.fromDevice(0xff, false, DeliveryMode.LOWEST_PRIORITY, VECTOR, false));
        assertThat(receivers()).containsExactly(1);

        // An interrupt in service raises the PPR, which counts, not the TPR alone.
        rig.bus.deliver(fixed(1, 0x90, false));
        inject(a1);
        rig.bus.deliver(ApicMessage.fromDevice(0xff, false, DeliveryMode.LOWEST_PRIORITY, VECTOR, false));
        assertThat(receivers()).containsExactly(2);
    }

    @Test
    void nmiInitAndStartupIpisReachTheTarget() {
        ipi(a0, 1, 0x400);
        assertThat(a1.takeNmi()).isTrue();
        ipi(a0, 1, 0x4500);       // INIT, assert, level
        ipi(a0, 1, 0x8500);       // INIT level de-assert: ignored
        ipi(a0, 1, 0x069a);       // STARTUP at 0x9a000
        ipi(a0, 1, 0x069a);       // the second SIPI of the protocol: ignored, the AP runs
        assertThat(rig.listener(a1).events).containsExactly("init", "startup 9a");
        assertThat(rig.listener(a2).events).isEmpty();
    }

    @Test
    void eoisGoToTheListenerSetLast() {
        List<Integer> other = new ArrayList<>();
        rig.bus.setEoiListener(other::add);
        rig.bus.deliver(fixed(2, 0x77, true));
        inject(a2);
        eoi(a2);
        assertThat(other).containsExactly(0x77);
        assertThat(rig.eois).isEmpty();
    }

    @Test
    void anApicIdRegistersOnce() {
        assertThatThrownBy(() -> rig.add(1)).isInstanceOf(IllegalArgumentException.class);
    }
}
