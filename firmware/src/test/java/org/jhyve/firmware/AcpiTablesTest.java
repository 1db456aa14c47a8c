package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Test;

/** The tables read back as a guest's ACPI code reads them: signatures, lengths, checksums, pointers. */
class AcpiTablesTest {
    private final GuestMemory memory = SegmentGuestMemory.onHeap(16L << 20);

    private String signature(long at) {
        return new String(memory.readBytes(at, 4), StandardCharsets.US_ASCII);
    }

    private int sum(long at, int length) {
        int s = 0;
        for (byte b : memory.readBytes(at, length)) s += b;
        return s & 0xff;
    }

    /** Checks the header and returns the table's length. */
    private int checkTable(long at, String expected) {
        assertThat(signature(at)).isEqualTo(expected);
        int length = memory.readInt(at + 4);
        assertThat(sum(at, length)).as(expected + " checksum").isZero();
        return length;
    }

    @Test
    void rsdpLeadsThroughTheXsdtToEveryTableWithValidChecksums() {
        long rsdp = AcpiTables.install(memory, 4);
        assertThat(new String(memory.readBytes(rsdp, 8), StandardCharsets.US_ASCII)).isEqualTo("RSD PTR ");
        assertThat(sum(rsdp, 20)).as("ACPI 1.0 checksum").isZero();
        assertThat(sum(rsdp, 36)).as("extended checksum").isZero();
        assertThat(memory.readByte(rsdp + 15)).as("revision").isEqualTo((byte) 2);

        long xsdt = memory.readLong(rsdp + 24);
        int xsdtLength = checkTable(xsdt, "XSDT");
        List<String> tables = new ArrayList<>();
        for (int off = 36; off < xsdtLength; off += 8) tables.add(signature(memory.readLong(xsdt + off)));
        assertThat(tables).containsExactly("FACP", "APIC");

        long fadt = memory.readLong(xsdt + 36);
        assertThat(checkTable(fadt, "FACP")).isEqualTo(276);
        assertThat(memory.readShort(fadt + 46)).as("SCI_INT").isEqualTo((short) 9);
        assertThat(memory.readInt(fadt + 56)).as("PM1a_EVT_BLK").isEqualTo(0x400);
        assertThat(memory.readInt(fadt + 64)).as("PM1a_CNT_BLK").isEqualTo(0x404);
        assertThat(memory.readInt(fadt + 76)).as("PM_TMR_BLK").isEqualTo(0x408);
        assertThat(memory.readLong(fadt + 116 + 4)).as("RESET_REG address").isEqualTo(0xcf9);
        assertThat(memory.readByte(fadt + 128)).as("RESET_VALUE").isEqualTo((byte) 6);
        assertThat(memory.readInt(fadt + 112) & (1 << 10)).as("RESET_REG_SUP").isNotZero();
        assertThat(memory.readInt(fadt + 112) & (1 << 4)).as("fixed power button present").isZero();
        assertThat(signature(memory.readLong(fadt + 132))).isEqualTo("FACS");

        long dsdt = memory.readLong(fadt + 140);
        int dsdtLength = checkTable(dsdt, "DSDT");
        byte[] body = memory.readBytes(dsdt + 36, dsdtLength - 36);
        assertThat(body).startsWith(0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00);
        // Then Scope(\_SB) { Device(PCI0) { Name(_HID, EISAID("PNP0A03")) ... } }, its PkgLength covering the rest.
        int scope = 14;
        assertThat(body[scope]).isEqualTo((byte) 0x10);
        int lead = body[scope + 1] & 0xff, extra = lead >>> 6;
        int scopeLength = lead & 0xf;
        for (int i = 1; i <= extra; i++) scopeLength |= (body[scope + 1 + i] & 0xff) << (4 + 8 * (i - 1));
        assertThat(scopeLength).as("Scope PkgLength spans the rest of the DSDT").isEqualTo(body.length - scope - 1);
        String text = new String(body, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(text).contains("\\_SB_").contains("\133\202").contains("PCI0")
                .contains("_HID\014A\320\012\003") // EISAID("PNP0A03") = 0x030AD041
                .contains("_CRS").contains("_PRT");
    }

    @Test
    void pciRootBridgeResourcesCoverWhereThePciBusPutsBars() {
        byte[] crs = AcpiTables.pciResources();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(crs).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        // Bus numbers 0-255, config ports, two I/O windows, one 32-bit memory window, end tag.
        assertThat(b.get(0) & 0xff).isEqualTo(0x88);
        assertThat(b.get(3)).as("bus number range").isEqualTo((byte) 2);
        assertThat(b.getShort(10) & 0xffff).isEqualTo(0xff);
        int mem = 16 + 8 + 16 + 16;
        assertThat(b.get(mem) & 0xff).isEqualTo(0x87);
        assertThat(b.getInt(mem + 10)).isEqualTo(0xc0000000);
        assertThat(b.getInt(mem + 14)).isEqualTo(0xfebfffff);
        assertThat(crs[crs.length - 2] & 0xff).as("end tag").isEqualTo(0x79);
        // The PCI bus assigns IO BARs from 0x2000 and MMIO BARs from 0xC0000000: inside the windows.
        assertThat(b.getShort(16 + 8 + 16 + 8) & 0xffff).as("second I/O window starts").isEqualTo(0x0d00);
    }

    @Test
    void amlPackageLengthsUseOneToFourBytes() {
        assertThat(Aml.pkgLength(0)).containsExactly(0x01);
        assertThat(Aml.pkgLength(62)).containsExactly(0x3f);
        assertThat(Aml.pkgLength(63)).containsExactly(0x41, 0x04); // 65 bytes in all: 0x41 = 1 extra byte, low nibble 1
        assertThat(Aml.pkgLength(4093)).containsExactly(0x4f, 0xff); // 4095
        assertThat(Aml.pkgLength(4094)).containsExactly(0x81, 0x00, 0x01); // 4097 in all: two extra bytes
    }

    @Test
    void madtListsEveryVcpuTheIoapicAndTheOverrides() {
        AcpiTables.install(memory, 3);
        long madt = AcpiTables.MADT;
        int length = checkTable(madt, "APIC");
        assertThat(memory.readInt(madt + 36)).isEqualTo(0xfee00000);
        List<String> entries = new ArrayList<>();
        for (long at = madt + 44; at < madt + length; at += memory.readByte(at + 1) & 0xff) {
            int type = memory.readByte(at);
            entries.add(switch (type) {
                case 0 -> "lapic uid=" + memory.readByte(at + 2) + " id=" + memory.readByte(at + 3) + " flags=" + memory.readInt(at + 4);
                case 1 -> "ioapic id=" + memory.readByte(at + 2) + " addr=" + Integer.toHexString(memory.readInt(at + 4)) + " gsi=" + memory.readInt(at + 8);
                case 2 -> "override irq=" + memory.readByte(at + 3) + " gsi=" + memory.readInt(at + 4) + " flags=" + memory.readShort(at + 8);
                case 4 -> "nmi uid=" + (memory.readByte(at + 2) & 0xff) + " lint=" + memory.readByte(at + 5);
                default -> "type " + type;
            });
        }
        assertThat(entries).containsExactly("lapic uid=0 id=0 flags=1", "lapic uid=1 id=1 flags=1", "lapic uid=2 id=2 flags=1",
                "ioapic id=3 addr=fec00000 gsi=0", "override irq=0 gsi=2 flags=0", "override irq=9 gsi=9 flags=13", "nmi uid=255 lint=1");
    }

    @Test
    void vcpuCountIsBounded() {
        assertThatThrownBy(() -> AcpiTables.install(memory, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AcpiTables.install(memory, 256)).isInstanceOf(IllegalArgumentException.class);
        AcpiTables.install(memory, 255);
        assertThat(checkTable(AcpiTables.MADT, "APIC")).isEqualTo(44 + 8 * 255 + 12 + 10 + 10 + 6);
    }
}
