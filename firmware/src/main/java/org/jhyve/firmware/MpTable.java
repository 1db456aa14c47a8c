package org.jhyve.firmware;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.jhyve.memory.GuestMemory;

/**
 * The Intel MultiProcessor Specification 1.4 tables xhyve writes by default ({@code -Y} turns them off): a
 * floating pointer at the start of the EBDA (0x9FC00) and a configuration table in the BIOS area at 0xF0000
 * (room for 255 vCPUs) with every vCPU, the ISA and PCI buses, the IOAPIC, the ISA interrupts and each PCI slot's INTA#, and the local
 * interrupts (LINT0 ExtINT, LINT1 NMI).
 *
 * <p>Two reasons to have them besides xhyve compatibility. A guest without ACPI ({@code -A} not given) finds
 * its processors here. And Linux looks for a floating pointer on every boot, even with ACPI, first in the
 * bottom kilobyte, then the last kilobyte below 640 KiB, then all of 0xF0000–0xFFFFF — remapping the rest
 * of the area at every 16-byte step: a 64 KiB scan that costs about two seconds where guest kernel code is
 * emulated (measured on a PVM host). Found at 0x9FC00, the scan stops after the first kilobyte.
 *
 * <p>The routing matches the MADT and the DSDT's {@code _PRT}: ISA IRQ 0 on IOAPIC pin 2, the other ISA IRQs
 * on their own pins, PCI slot S's INTA# on pin 16 + S mod 8 (level, active low).
 */
public final class MpTable {
    /** Where the floating pointer goes: the start of the EBDA, which the e820 map reserves. */
    public static final long FLOATING_POINTER = LowMemoryMap.EBDA;
    /** In the reserved BIOS area, clear of the ACPI tables (0xE0000-0xE1FFF). */
    static final long CONFIG_TABLE = 0xf0000;
    static final long END = 0x100000;
    static final int PCI_SLOTS = 32;
    static final long IOAPIC_ADDRESS = 0xfec0_0000L, LAPIC_ADDRESS = 0xfee0_0000L;
    static final int BUS_PCI = 0, BUS_ISA = 1;
    static final int ENTRY_PROCESSOR = 0, ENTRY_BUS = 1, ENTRY_IOAPIC = 2, ENTRY_IO_INTERRUPT = 3, ENTRY_LOCAL_INTERRUPT = 4;
    static final int INT = 0, NMI = 1, EXTINT = 3;
    /** Interrupt flags: polarity in bits 0-1, trigger mode in bits 2-3 (0 = conforms to the bus). */
    static final int CONFORMING = 0, LEVEL_ACTIVE_LOW = 0x3 | 0x3 << 2;

    private MpTable() {}

    /** Writes the floating pointer and configuration table for {@code vcpus} processors; returns the table's length. */
    public static int install(GuestMemory memory, int vcpus) {
        byte[] table = configurationTable(vcpus);
        if (CONFIG_TABLE + table.length > END) {
            throw new IllegalArgumentException("an MP table for " + vcpus + " vCPUs does not fit below 1 MiB");
        }
        memory.write(CONFIG_TABLE, table);
        memory.write(FLOATING_POINTER, floatingPointer(CONFIG_TABLE));
        return table.length;
    }

    static byte[] floatingPointer(long configTable) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.put("_MP_".getBytes(StandardCharsets.US_ASCII)).putInt((int) configTable);
        b.put((byte) 1).put((byte) 4).put((byte) 0); // length in paragraphs, spec 1.4, checksum (below)
        b.put((byte) 0); // feature byte 1: 0 = a configuration table is present (no default configuration)
        b.put((byte) 0); // feature byte 2: IMCR absent, virtual-wire mode
        b.put(new byte[3]);
        return checksummed(b.array(), 10);
    }

    static byte[] configurationTable(int vcpus) {
        int entries = vcpus + 2 + 1 + 16 + PCI_SLOTS + 2;
        int length = 44 + 20 * vcpus + 8 * (entries - vcpus);
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("PCMP".getBytes(StandardCharsets.US_ASCII)).putShort((short) length).put((byte) 4).put((byte) 0);
        b.put(padded("JHYVE", 8)).put(padded("JHYVE", 12));
        b.putInt(0).putShort((short) 0); // no OEM table
        b.putShort((short) entries).putInt((int) LAPIC_ADDRESS);
        b.putShort((short) 0).put((byte) 0).put((byte) 0); // no extended table
        int ioapicId = vcpus; // after the processors' APIC IDs, as in the MADT
        for (int i = 0; i < vcpus; i++) {
            int flags = 1 | (i == 0 ? 2 : 0); // enabled; the first is the bootstrap processor
            b.put((byte) ENTRY_PROCESSOR).put((byte) i).put((byte) 0x14).put((byte) flags);
            b.putInt(0x600).putInt(0x201); // family 6 signature; FPU and APIC present
            b.putLong(0);
        }
        b.put((byte) ENTRY_BUS).put((byte) BUS_PCI).put(padded("PCI", 6));
        b.put((byte) ENTRY_BUS).put((byte) BUS_ISA).put(padded("ISA", 6));
        b.put((byte) ENTRY_IOAPIC).put((byte) ioapicId).put((byte) 0x11).put((byte) 1).putInt((int) IOAPIC_ADDRESS);
        // The 8259 behind IOAPIC pin 0, then ISA IRQs 1-15 on their pins, IRQ 0 (the PIT) on pin 2.
        ioInterrupt(b, EXTINT, CONFORMING, BUS_ISA, 0, ioapicId, 0);
        for (int irq = 0; irq < 16; irq++) {
            if (irq == 2) continue; // the cascade: its pin carries IRQ 0
            ioInterrupt(b, INT, CONFORMING, BUS_ISA, irq, ioapicId, irq == 0 ? 2 : irq);
        }
        for (int slot = 0; slot < PCI_SLOTS; slot++) {
            ioInterrupt(b, INT, LEVEL_ACTIVE_LOW, BUS_PCI, slot << 2, ioapicId, 16 + slot % 8); // INTA# = pin 0
        }
        localInterrupt(b, EXTINT, 0);
        localInterrupt(b, NMI, 1);
        if (b.hasRemaining()) throw new IllegalStateException("MP table length miscounted: " + b.remaining() + " bytes left");
        return checksummed(b.array(), 7);
    }

    private static void ioInterrupt(ByteBuffer b, int type, int flags, int bus, int busIrq, int ioapic, int pin) {
        b.put((byte) ENTRY_IO_INTERRUPT).put((byte) type).putShort((short) flags);
        b.put((byte) bus).put((byte) busIrq).put((byte) ioapic).put((byte) pin);
    }

    /** To every processor's local APIC (ID 0xFF). */
    private static void localInterrupt(ByteBuffer b, int type, int lint) {
        b.put((byte) ENTRY_LOCAL_INTERRUPT).put((byte) type).putShort((short) CONFORMING);
        b.put((byte) BUS_ISA).put((byte) 0).put((byte) 0xff).put((byte) lint);
    }

    private static byte[] padded(String text, int length) {
        byte[] out = new byte[length];
        java.util.Arrays.fill(out, (byte) ' ');
        byte[] t = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, out, 0, Math.min(t.length, length));
        return out;
    }

    /** Sets byte {@code at} so that all bytes sum to zero (mod 256), as both structures require. */
    private static byte[] checksummed(byte[] bytes, int at) {
        int sum = 0;
        for (byte x : bytes) sum += x & 0xff;
        bytes[at] = (byte) -sum;
        return bytes;
    }
}
