package org.jhyve.x86;

import org.jhyve.hv.Registers;

/**
 * A working copy of the general registers, RIP and RFLAGS while one instruction is emulated, with the x86
 * rules for partial writes (SDM Vol. 1 §3.4.1.1): a 32-bit write zero-extends to 64 bits, an 8- or 16-bit
 * write leaves the other bits alone. One per emulation, confined to the thread that runs it.
 */
final class GprState {
    private final long[] gpr = new long[16];
    private long rip;
    private long rflags;

    GprState(Registers r) {
        long[] byEncoding = {r.rax(), r.rcx(), r.rdx(), r.rbx(), r.rsp(), r.rbp(), r.rsi(), r.rdi(),
                r.r8(), r.r9(), r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15()};
        System.arraycopy(byEncoding, 0, gpr, 0, 16);
        rip = r.rip();
        rflags = r.rflags();
    }

    Registers toRegisters() {
        return new Registers(gpr[0], gpr[3], gpr[1], gpr[2], gpr[6], gpr[7], gpr[4], gpr[5], gpr[8], gpr[9], gpr[10],
                gpr[11], gpr[12], gpr[13], gpr[14], gpr[15], rip, rflags);
    }

    /** The low {@code size} bytes of {@code reg}, zero-extended. */
    long read(GeneralRegister reg, int size) {
        return gpr[reg.encoding()] & mask(size);
    }

    /** Writes the low {@code size} bytes of {@code value} to {@code reg}: 4 zero-extends, 1 and 2 merge. */
    void write(GeneralRegister reg, int size, long value) {
        int i = reg.encoding();
        gpr[i] = switch (size) {
            case 8 -> value;
            case 4 -> value & 0xFFFF_FFFFL;
            default -> gpr[i] & ~mask(size) | value & mask(size);
        };
    }

    /**
     * The register operand {@code encoding} (0-15) of an instruction: for byte operands without any REX
     * prefix, 4-7 are AH, CH, DH and BH (bits 8-15 of RAX..RBX); with one they are SPL, BPL, SIL and DIL
     * (SDM Vol. 2 §2.2.1.2, Table 3-1).
     */
    long readOperand(int encoding, int size, boolean rex) {
        if (isHighByte(encoding, size, rex)) return gpr[encoding - 4] >>> 8 & 0xFF;
        return read(GeneralRegister.ofEncoding(encoding), size);
    }

    void writeOperand(int encoding, int size, boolean rex, long value) {
        if (isHighByte(encoding, size, rex)) {
            gpr[encoding - 4] = gpr[encoding - 4] & ~0xFF00L | (value & 0xFF) << 8;
        } else {
            write(GeneralRegister.ofEncoding(encoding), size, value);
        }
    }

    private static boolean isHighByte(int encoding, int size, boolean rex) {
        return size == 1 && !rex && encoding >= 4 && encoding <= 7;
    }

    long rip() { return rip; }

    void rip(long newRip) { rip = newRip; }

    long rflags() { return rflags; }

    /** Replaces the bits of {@code which} in RFLAGS by those of {@code values}. */
    void updateFlags(long which, long values) {
        rflags = rflags & ~which | values & which;
    }

    static long mask(int size) {
        return size == 8 ? -1L : (1L << 8 * size) - 1;
    }
}
