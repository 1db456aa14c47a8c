package org.jhyve.firmware;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jhyve.memory.GuestMemory;

/**
 * What a PC BIOS leaves behind for a kernel it hands over to, as far as kernels written for one rely on it
 * (kvm-unit-tests' real-mode test does): the two 8259 PICs initialised with vectors 0x08 and 0x70, all inputs
 * masked but the timer's and the cascade; the 8254 PIT's channel 0 ticking at 18.2 Hz (mode 3, count 65536);
 * and a real-mode interrupt vector table whose hardware-interrupt entries acknowledge the PIC and return, the
 * others returning at once. SeaBIOS leaves the same under QEMU.
 *
 * <p>The PICs and the PIT belong to the interrupt platform, which may be the hypervisor's (KVM's in-kernel
 * irqchip, where jhyve cannot write their registers), so the guest programs them itself: {@link #install} puts a
 * short 32-bit prologue at {@link #PROLOGUE} that does the port writes and jumps to the kernel's entry,
 * keeping EAX and EBX (the Multiboot magic and information address); the loader starts the vCPU there.
 * Everything sits in the BIOS area at 0xF0000, which the e820 map reserves.
 */
final class PcFirmwareState {
    private PcFirmwareState() {}

    /** The handlers, then the prologue: 4 KiB at the bottom of the BIOS area. */
    static final long BASE = 0xf_0000L;
    static final long SIZE = 0x1000;
    private static final int SEGMENT = (int) (BASE >>> 4);
    private static final int IRET_AT = 0x00, MASTER_EOI_AT = 0x10, SLAVE_EOI_AT = 0x20;
    static final long PROLOGUE = BASE + 0x100;

    private static final byte[] IRET = bytes(0xcf);
    /** push ax; mov al, 0x20; out 0x20, al; pop ax; iret */
    private static final byte[] MASTER_EOI = bytes(0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf);
    /** push ax; mov al, 0x20; out 0xa0, al; out 0x20, al; pop ax; iret */
    private static final byte[] SLAVE_EOI = bytes(0x50, 0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, 0x58, 0xcf);

    /** Writes the vector table, the handlers and the prologue; returns the prologue's address, where to start. */
    static long install(GuestMemory memory, long entry) {
        ByteBuffer ivt = ByteBuffer.allocate(256 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int vector = 0; vector < 256; vector++) {
            int handler = vector >= 0x08 && vector < 0x10 ? MASTER_EOI_AT : vector >= 0x70 && vector < 0x78 ? SLAVE_EOI_AT : IRET_AT;
            ivt.putShort((short) handler).putShort((short) SEGMENT);
        }
        memory.write(0, ivt.array());
        memory.fill(BASE, SIZE, (byte) 0);
        memory.write(BASE + IRET_AT, IRET);
        memory.write(BASE + MASTER_EOI_AT, MASTER_EOI);
        memory.write(BASE + SLAVE_EOI_AT, SLAVE_EOI);
        memory.write(PROLOGUE, prologue(entry));
        return PROLOGUE;
    }

    /** 32-bit flat code: program the PICs and the PIT as a BIOS does, then jump to {@code entry} with EAX kept. */
    static byte[] prologue(long entry) {
        ByteBuffer b = ByteBuffer.allocate(96).order(ByteOrder.LITTLE_ENDIAN);
        b.put(bytes(0x89, 0xc6)); // mov esi, eax: AL carries the port values
        out(b, 0x20, 0x11); out(b, 0xa0, 0x11); // ICW1: edge, cascade, ICW4 follows
        out(b, 0x21, 0x08); out(b, 0xa1, 0x70); // ICW2: vector bases
        out(b, 0x21, 0x04); out(b, 0xa1, 0x02); // ICW3: the slave on IRQ 2
        out(b, 0x21, 0x01); out(b, 0xa1, 0x01); // ICW4: 8086 mode
        out(b, 0x21, 0xfa); out(b, 0xa1, 0xff); // OCW1: only the timer (IRQ 0) and the cascade open
        out(b, 0x43, 0x36); out(b, 0x40, 0x00); out(b, 0x40, 0x00); // PIT channel 0: mode 3, count 65536
        b.put(bytes(0x89, 0xf0)); // mov eax, esi
        b.put((byte) 0xb9).putInt((int) entry); // mov ecx, entry
        b.put(bytes(0xff, 0xe1)); // jmp ecx
        byte[] code = new byte[b.position()];
        b.flip().get(code);
        return code;
    }

    /** mov al, value; out port, al */
    private static void out(ByteBuffer b, int port, int value) {
        b.put(bytes(0xb0, value, 0xe6, port));
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }
}
