package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class IoApicTest {
    private final List<ApicMessage> delivered = new ArrayList<>();
    private final IoApic ioapic = new IoApic(new InterruptRouter() {
        @Override
        public void deliver(ApicMessage message) {
            delivered.add(message);
        }

        @Override
        public void endOfInterrupt(int vector) {
            ioapic().endOfInterrupt(vector);
        }
    });

    private IoApic ioapic() {
        return ioapic;
    }

    private void writeRegister(int register, int value) {
        ioapic.write(IoApic.IOREGSEL, 4, register);
        ioapic.write(IoApic.IOWIN, 4, value & 0xFFFF_FFFFL);
    }

    private int readRegister(int register) {
        ioapic.write(IoApic.IOREGSEL, 4, register);
        return (int) ioapic.read(IoApic.IOWIN, 4);
    }

    private void route(int pin, int low, int destination) {
        writeRegister(0x11 + 2 * pin, destination << 24);
        writeRegister(0x10 + 2 * pin, low);
    }

    private static final int LEVEL = 1 << 15;
    private static final int MASKED = 1 << 16;
    private static final int ACTIVE_LOW = 1 << 13;
    private static final int REMOTE_IRR = 1 << 14;

    @Test
    void levelPinDeliversOnceUntilEoiThenAgainIfStillAsserted() {
        route(9, LEVEL | 0x41, 1);
        ioapic.setPin(9, true);
        ioapic.setPin(9, true);
        assertThat(delivered).hasSize(1);
        assertThat(delivered.getFirst().vector()).isEqualTo(0x41);
        assertThat(delivered.getFirst().levelTriggered()).isTrue();
        assertThat(readRegister(0x10 + 18) & REMOTE_IRR).isNotZero();

        ioapic.endOfInterrupt(0x42); // another vector: nothing
        assertThat(delivered).hasSize(1);
        ioapic.endOfInterrupt(0x41);
        assertThat(delivered).hasSize(2);

        ioapic.setPin(9, false);
        ioapic.endOfInterrupt(0x41);
        assertThat(delivered).hasSize(2);
        assertThat(readRegister(0x10 + 18) & REMOTE_IRR).isZero();
        ioapic.setPin(9, true);
        assertThat(delivered).hasSize(3);
    }

    @Test
    void edgePinDeliversOnRisingEdgesOnly() {
        route(4, 0x30, 0);
        ioapic.setPin(4, true);
        ioapic.setPin(4, true);
        assertThat(delivered).hasSize(1);
        ioapic.setPin(4, false);
        assertThat(delivered).hasSize(1);
        ioapic.setPin(4, true);
        assertThat(delivered).hasSize(2);
        assertThat(delivered.getLast().levelTriggered()).isFalse();
        assertThat(readRegister(0x10 + 8) & REMOTE_IRR).isZero();
    }

    @Test
    void maskedEdgeIsLostAndUnmaskingAnAssertedLevelPinDelivers() {
        route(5, MASKED | 0x35, 0);
        ioapic.setPin(5, true);
        route(5, 0x35, 0);
        assertThat(delivered).isEmpty();

        route(10, MASKED | LEVEL | 0x50, 0);
        ioapic.setPin(10, true);
        assertThat(delivered).isEmpty();
        route(10, LEVEL | 0x50, 0);
        assertThat(delivered).extracting(ApicMessage::vector).containsExactly(0x50);
    }

    @Test
    void devicesDriveTheAssertedLevelWhateverThePolarity() {
        // jhyve's devices drive "asserted", not the wire's electrical level, as KVM's and xhyve's IOAPICs take it:
        // an active-low entry (PCI INTx in ACPI's _PRT) must deliver on true, and an idle line must stay quiet.
        route(16, LEVEL | ACTIVE_LOW | 0x60, 0);
        assertThat(delivered).isEmpty();
        ioapic.setPin(16, true);
        assertThat(delivered).hasSize(1);
        assertThat(ioapic.read(IoApic.IOWIN, 4) & ACTIVE_LOW).as("the polarity bit reads back").isNotZero();
    }

    @Test
    void eoiRegisterClearsRemoteIrr() {
        route(20, LEVEL | 0x70, 0);
        ioapic.setPin(20, true);
        ioapic.write(IoApic.EOI, 4, 0x70);
        assertThat(delivered).hasSize(2);
        ioapic.setPin(20, false);
        ioapic.write(IoApic.EOI, 4, 0x70);
        assertThat(delivered).hasSize(2);
    }

    @Test
    void messageCarriesModeDestinationAndDestinationMode() {
        route(3, (DeliveryMode.LOWEST_PRIORITY.bits() << 8) | (1 << 11) | 0x99, 0xA5);
        ioapic.setPin(3, true);
        assertThat(delivered).containsExactly(
                ApicMessage.fromDevice(0xA5, true, DeliveryMode.LOWEST_PRIORITY, 0x99, false));
    }

    @Test
    void registersReadBackWithReadOnlyBitsKept() {
        assertThat(readRegister(0x01)).isEqualTo(0x0017_0020);
        writeRegister(0x00, 0x0F00_0000 | 0xFF);
        assertThat(readRegister(0x00)).isEqualTo(0x0F00_0000);
        assertThat(readRegister(0x02)).isEqualTo(0x0F00_0000);
        assertThat(readRegister(0x10)).as("reset: masked").isEqualTo(MASKED);
        writeRegister(0x10 + 46, 0xFFFF_FFFF);
        assertThat(readRegister(0x10 + 46)).isEqualTo(0x0001_AFFF); // remote IRR and delivery status read-only
        writeRegister(0x11 + 46, 0xFFFF_FFFF);
        assertThat(readRegister(0x11 + 46)).isEqualTo(0xFF00_0000);
        ioapic.write(IoApic.IOREGSEL, 4, 0x1234);
        assertThat(ioapic.read(IoApic.IOREGSEL, 4)).isEqualTo(0x34);
    }

    @Test
    void outOfRangeRegistersAndPinsAreIgnored() {
        writeRegister(0x40, 0x55); // entry 24 does not exist
        assertThat(readRegister(0x40)).isZero();
        assertThat(readRegister(0x03)).isZero();
        assertThat(readRegister(0xFF)).isZero();
        ioapic.setPin(24, true);
        ioapic.setPin(-1, true);
        assertThat(ioapic.read(0x20, 4)).isZero();
        assertThat(ioapic.read(IoApic.EOI, 4)).isZero();
        assertThat(delivered).isEmpty();
    }

    @Test
    void routerCalledWithoutTheLockSoASynchronousEoiWorks() {
        // A router that EOIs at once from the delivering thread, as a local APIC might via the EOI broadcast.
        List<Integer> vectors = new ArrayList<>();
        IoApic[] self = new IoApic[1];
        self[0] = new IoApic(new InterruptRouter() {
            @Override
            public void deliver(ApicMessage message) {
                vectors.add(message.vector());
                if (vectors.size() < 3) self[0].endOfInterrupt(message.vector());
            }

            @Override
            public void endOfInterrupt(int vector) { }
        });
        self[0].write(IoApic.IOREGSEL, 4, 0x10);
        self[0].write(IoApic.IOWIN, 4, LEVEL | 0x44);
        self[0].setPin(0, true);
        assertThat(vectors).containsExactly(0x44, 0x44, 0x44);
    }
}
