package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Test;

/** The MP 1.4 tables as Linux's mpparse reads them: found where the scan looks first, checksums, entries. */
class MpTableTest {
    final GuestMemory memory = SegmentGuestMemory.onHeap(2 << 20);

    static int sum(byte[] b) {
        int s = 0;
        for (byte x : b) s += x & 0xff;
        return s & 0xff;
    }

    @Test
    void theFloatingPointerIsAtTheStartOfTheEbdaAndPointsAtAChecksummedTable() {
        MpTable.install(memory, 2);
        byte[] fp = memory.readBytes(0x9fc00, 16);
        ByteBuffer f = ByteBuffer.wrap(fp).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new String(fp, 0, 4)).isEqualTo("_MP_");
        assertThat(f.getInt(4)).isEqualTo(0xf0000);
        assertThat(fp[8]).as("length in 16-byte units").isEqualTo((byte) 1);
        assertThat(fp[9]).as("spec revision 1.4").isEqualTo((byte) 4);
        assertThat(fp[11]).as("a table, not a default configuration").isZero();
        assertThat(sum(fp)).isZero();

        byte[] header = memory.readBytes(0xf0000, 44);
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new String(header, 0, 4)).isEqualTo("PCMP");
        int length = Short.toUnsignedInt(h.getShort(4));
        assertThat(sum(memory.readBytes(0xf0000, length))).isZero();
        assertThat(h.getShort(34)).as("entries: 2 CPUs, 2 buses, IOAPIC, 16 ISA, 32 PCI, 2 local").isEqualTo((short) 55);
        assertThat(h.getInt(36)).as("local APIC").isEqualTo(0xfee00000);
        assertThat(length).isEqualTo(44 + 2 * 20 + 53 * 8);
    }

    @Test
    void processorsBusesIoapicAndRoutingMatchTheMadtAndPrt() {
        MpTable.install(memory, 3);
        ByteBuffer t = ByteBuffer.wrap(memory.readBytes(0xf0000, 44 + 3 * 20 + 53 * 8)).order(ByteOrder.LITTLE_ENDIAN);
        int at = 44;
        for (int cpu = 0; cpu < 3; cpu++, at += 20) {
            assertThat(t.get(at)).as("processor entry").isZero();
            assertThat(t.get(at + 1)).as("APIC ID").isEqualTo((byte) cpu);
            assertThat(t.get(at + 3)).as("enabled, BSP only for the first").isEqualTo((byte) (cpu == 0 ? 3 : 1));
        }
        assertThat(new String(memory.readBytes(0xf0000 + at + 2, 6))).isEqualTo("PCI   ");
        assertThat(new String(memory.readBytes(0xf0000 + at + 10, 6))).isEqualTo("ISA   ");
        at += 16;
        assertThat(t.get(at)).as("IOAPIC entry").isEqualTo((byte) 2);
        assertThat(t.get(at + 1)).as("IOAPIC ID after the CPUs'").isEqualTo((byte) 3);
        assertThat(t.getInt(at + 4)).isEqualTo(0xfec00000);
        at += 8;
        // ExtINT on pin 0, then ISA IRQ 0 on pin 2 and IRQ 1 on pin 1
        assertThat(new byte[] {t.get(at + 1), t.get(at + 5), t.get(at + 7)}).containsExactly(3, 0, 0);
        assertThat(new byte[] {t.get(at + 9), t.get(at + 13), t.get(at + 15)}).containsExactly(0, 0, 2);
        assertThat(new byte[] {t.get(at + 17), t.get(at + 21), t.get(at + 23)}).containsExactly(0, 1, 1);
        at += 16 * 8;
        // PCI slot 5, INTA#: bus IRQ (5 << 2), pin 16 + 5, level-triggered active low
        int slot5 = at + 5 * 8;
        assertThat(t.get(slot5 + 4)).as("PCI bus").isZero();
        assertThat(t.get(slot5 + 5)).isEqualTo((byte) (5 << 2));
        assertThat(t.get(slot5 + 7)).isEqualTo((byte) 21);
        assertThat(t.getShort(slot5 + 2)).isEqualTo((short) 0xf);
        at += 32 * 8;
        assertThat(new byte[] {t.get(at), t.get(at + 1), t.get(at + 6), t.get(at + 7)}).as("LINT0 ExtINT").containsExactly(4, 3, -1, 0);
        assertThat(new byte[] {t.get(at + 8), t.get(at + 9), t.get(at + 14), t.get(at + 15)}).as("LINT1 NMI").containsExactly(4, 1, -1, 1);
    }

    @Test
    void twoHundredFiftyFiveVcpusFitBelowOneMegabyte() {
        int length = MpTable.install(memory, 255);
        assertThat(0xf0000L + length).isLessThanOrEqualTo(0x100000L);
        assertThat(sum(memory.readBytes(0xf0000, length))).isZero();
    }
}
