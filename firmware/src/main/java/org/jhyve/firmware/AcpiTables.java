package org.jhyve.firmware;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.jhyve.memory.GuestMemory;

/**
 * jhyve's ACPI tables, enough for Linux to find every vCPU, the IOAPIC, the power-management registers
 * and how to power off and reset: RSDP → XSDT → FADT (→ FACS, DSDT with \_S5) and MADT. They live in the
 * reserved BIOS area at 0xE0000, where Linux also looks for the RSDP when not told its address.
 * Register ports match org.jhyve.devices.platform.AcpiPowerManagement (bhyve's layout).
 */
public final class AcpiTables {
    public static final long RSDP = 0xe0000;
    static final long XSDT = 0xe0040;
    static final long FACS = 0xe0100;
    /** After the MADT's room for 255 vCPUs; the DSDT has 4 KiB up to END. */
    static final long DSDT = 0xe1000;
    static final long FADT = 0xe0200;
    static final long MADT = 0xe0400;
    static final long END = 0xe2000;

    static final int PM1A_EVT = 0x400, PM1A_CNT = 0x404, PM_TMR = 0x408, RESET_PORT = 0xcf9, RESET_VALUE = 0x06;
    static final int SCI_IRQ = 9;
    static final long IOAPIC_ADDRESS = 0xfec0_0000L, LAPIC_ADDRESS = 0xfee0_0000L;
    /** MADT holds 8 bytes a local APIC; the area up to END bounds the vCPU count. */
    public static final int MAX_VCPUS = 255;

    private AcpiTables() {}

    /** Writes the tables for {@code vcpus} processors and returns the RSDP's address. */
    public static long install(GuestMemory memory, int vcpus) {
        if (vcpus < 1 || vcpus > MAX_VCPUS) throw new IllegalArgumentException("ACPI tables for 1-" + MAX_VCPUS + " vCPUs: " + vcpus);
        memory.fill(RSDP, END - RSDP, (byte) 0);
        memory.write(FACS, facs());
        byte[] dsdt = dsdt();
        if (DSDT + dsdt.length > END) throw new IllegalStateException("DSDT of " + dsdt.length + " bytes does not fit");
        memory.write(DSDT, dsdt);
        memory.write(FADT, fadt());
        memory.write(MADT, madt(vcpus));
        memory.write(XSDT, new AcpiTable("XSDT", 1, 64).u64(FADT).u64(MADT).bytes());
        memory.write(RSDP, rsdp());
        return RSDP;
    }

    /** Root System Description Pointer, revision 2 (§5.2.5.3): 36 bytes, two checksums. */
    static byte[] rsdp() {
        ByteBuffer b = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RSD PTR ".getBytes(StandardCharsets.US_ASCII));
        b.put((byte) 0);
        b.put(AcpiTable.OEM_ID.getBytes(StandardCharsets.US_ASCII));
        b.put((byte) 2); // revision: ACPI 2.0+, use the XSDT
        b.putInt(0); // no RSDT
        b.putInt(36);
        b.putLong(XSDT);
        byte[] out = b.array();
        out[8] = AcpiTable.checksum(out, 0, 20);
        out[32] = AcpiTable.checksum(out, 0, 36);
        return out;
    }

    /** Firmware ACPI Control Structure: required outside hardware-reduced ACPI; nothing here uses it. */
    static byte[] facs() {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.put("FACS".getBytes(StandardCharsets.US_ASCII)).putInt(64);
        b.position(32).put((byte) 2); // version
        return b.array();
    }

    /** Windows the PCI root bridge decodes: where jhyve's PCI bus puts BARs (see org.jhyve.pci.PciBus). */
    static final long PCI_MMIO_BASE = 0xc000_0000L, PCI_MMIO_END = 0xfebf_ffffL;
    static final int PCI_IO_BASE = 0x0d00, PCI_IO_END = 0xffff;
    /** PCI INTx: pin P of slot S reaches IOAPIC input 16 + (S + P) mod 8, as the devices assume. */
    static final int PCI_INTX_GSI_BASE = 16;

    /**
     * The DSDT: \_S5 (the soft-off sleep type, Package {5, 5, 0, 0}: SLP_TYP 5 is what the power-management
     * device treats as power-off) and the PCI root bridge \_SB.PCI0, whose _CRS gives the bus numbers and
     * the I/O and memory windows and whose _PRT routes every slot's INTx. Linux with ACPI only scans PCI
     * below a root bridge it finds here.
     */
    static byte[] dsdt() {
        byte[] s5 = Aml.name("_S5_", Aml.packageOf(4, Aml.cat(Aml.integer(5), Aml.integer(5), Aml.integer(0), Aml.integer(0))));
        byte[] pci0 = Aml.device("PCI0", Aml.cat(
                Aml.name("_HID", Aml.eisaId("PNP0A03")),
                Aml.name("_UID", Aml.integer(0)),
                Aml.name("_CRS", Aml.buffer(pciResources())),
                Aml.name("_PRT", pciRouting())));
        return new AcpiTable("DSDT", 2, 64 + s5.length + pci0.length + 16).raw(s5).raw(Aml.scope("\\_SB_", pci0)).bytes();
    }

    /** The root bridge's resources, as a ResourceTemplate (ACPI 6.4 §6.4). */
    static byte[] pciResources() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(128).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        // WordBusNumber: buses 0-255.
        b.put((byte) 0x88).putShort((short) 13).put((byte) 2).put((byte) 0x0c).put((byte) 0)
                .putShort((short) 0).putShort((short) 0).putShort((short) 0xff).putShort((short) 0).putShort((short) 0x100);
        // IO: the configuration ports 0xCF8-0xCFF, consumed by the bridge itself.
        b.put((byte) 0x47).put((byte) 1).putShort((short) 0xcf8).putShort((short) 0xcf8).put((byte) 1).put((byte) 8);
        // WordIO windows: everything below the configuration ports, and 0xD00-0xFFFF.
        wordIo(b, 0x0000, 0x0cf7);
        wordIo(b, PCI_IO_BASE, PCI_IO_END);
        // DWordMemory window for 32-bit BARs, non-cacheable, read-write.
        b.put((byte) 0x87).putShort((short) 23).put((byte) 0).put((byte) 0x0c).put((byte) 1)
                .putInt(0).putInt((int) PCI_MMIO_BASE).putInt((int) PCI_MMIO_END).putInt(0).putInt((int) (PCI_MMIO_END - PCI_MMIO_BASE + 1));
        b.put((byte) 0x79).put((byte) 0); // end tag
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private static void wordIo(java.nio.ByteBuffer b, int min, int max) {
        b.put((byte) 0x88).putShort((short) 13).put((byte) 1).put((byte) 0x0c).put((byte) 3)
                .putShort((short) 0).putShort((short) min).putShort((short) max).putShort((short) 0).putShort((short) (max - min + 1));
    }

    /**
     * _PRT: Package { Package { slot << 16 | 0xFFFF, pin, 0, GSI }, ... } for INTA# of 32 slots. Every jhyve
     * device interrupts on INTA#; describing INTB#-INTD# too would quadruple what the guest's AML interpreter
     * builds at boot (measured: 0.8 s instead of 0.2 s where guest kernel code is emulated).
     */
    static byte[] pciRouting() {
        java.io.ByteArrayOutputStream entries = new java.io.ByteArrayOutputStream();
        int count = 0;
        for (int slot = 0; slot < 32; slot++) {
            for (int pin = 0; pin < 1; pin++) {
                entries.writeBytes(Aml.packageOf(4, Aml.cat(Aml.integer((long) slot << 16 | 0xffff), Aml.integer(pin),
                        Aml.integer(0), Aml.integer(PCI_INTX_GSI_BASE + (slot + pin) % 8))));
                count++;
            }
        }
        return Aml.packageOf(count, entries.toByteArray());
    }

    /** Fixed ACPI Description Table, revision 6 (§5.2.9, 276 bytes). */
    static byte[] fadt() {
        AcpiTable t = new AcpiTable("FACP", 6, 276);
        t.u32(FACS).u32(DSDT);
        t.u8(0).u8(0); // reserved, preferred PM profile: unspecified
        t.u16(SCI_IRQ);
        t.u32(0); // SMI_CMD: none, ACPI mode is always on (SCI_EN reads 1)
        t.u8(0).u8(0).u8(0).u8(0); // ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT
        t.u32(PM1A_EVT).u32(0).u32(PM1A_CNT).u32(0).u32(0).u32(PM_TMR).u32(0).u32(0);
        t.u8(4).u8(2).u8(0).u8(4); // PM1_EVT_LEN, PM1_CNT_LEN, PM2_CNT_LEN, PM_TMR_LEN
        t.u8(0).u8(0).u8(0).u8(0); // GPE0/1 lengths, GPE1 base, CST_CNT
        t.u16(101).u16(1001); // C2/C3 latencies above the limits: not supported
        t.u16(0).u16(0).u8(0).u8(0).u8(0).u8(0).u8(0); // flush size/stride, duty, alarms, century
        t.u16(1 << 2); // IAPC_BOOT_ARCH: no VGA; no 8042 (jhyve's i8042 only resets), MSI supported
        t.u8(0);
        // Flags: WBINVD (0), PROC_C1 (2), SLP_BUTTON as none (5), RESET_REG_SUP (10); PWR_BUTTON clear =
        // the fixed power button exists (bit 4).
        t.u32(1 | 1 << 2 | 1 << 5 | 1 << 10);
        t.ioAddress(8, 1, RESET_PORT).u8(RESET_VALUE);
        t.u16(0).u8(0); // ARM boot flags, minor version
        t.u64(FACS).u64(DSDT);
        t.ioAddress(32, 2, PM1A_EVT).noAddress();
        t.ioAddress(16, 2, PM1A_CNT).noAddress();
        t.noAddress(); // PM2
        t.ioAddress(32, 3, PM_TMR);
        t.noAddress().noAddress(); // GPE0, GPE1
        t.noAddress().noAddress(); // sleep control/status (hardware-reduced only)
        t.u64(0); // hypervisor vendor identity
        return t.bytes();
    }

    /** Multiple APIC Description Table (§5.2.12): a local APIC per vCPU, the IOAPIC, ISA overrides, LINT1 NMI. */
    static byte[] madt(int vcpus) {
        AcpiTable t = new AcpiTable("APIC", 5, 96 + 8 * vcpus);
        t.u32(LAPIC_ADDRESS).u32(1); // PCAT_COMPAT: there are 8259 PICs too
        for (int i = 0; i < vcpus; i++) t.u8(0).u8(8).u8(i).u8(i).u32(1); // processor UID i, APIC ID i, enabled
        t.u8(1).u8(12).u8(vcpus).u8(0).u32(IOAPIC_ADDRESS).u32(0); // IOAPIC id after the CPUs', GSI base 0
        t.u8(2).u8(10).u8(0).u8(0).u32(2).u16(0); // ISA IRQ 0 (the PIT) is IOAPIC pin 2
        t.u8(2).u8(10).u8(0).u8(SCI_IRQ).u32(SCI_IRQ).u16(0xd); // the SCI: level-triggered, active high
        t.u8(4).u8(6).u8(0xff).u16(0).u8(1); // NMI on LINT1 of every processor
        return t.bytes();
    }
}
