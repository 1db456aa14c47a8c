package org.jhyve.gdb;

import java.util.Arrays;
import org.jhyve.hv.FpuState;

/**
 * The registers of gdb's x86-64 set that live in {@link FpuState}: the x87 stack and control words, the SSE
 * registers xmm0-xmm15 and MXCSR, in gdb's form. The FXSAVE image already holds each XMM register as its 16
 * bytes, least significant first, which is how gdb wants them, so they travel as they are.
 */
final class FpuRegisters {
    private FpuRegisters() {}

    static final int ST_BYTES = 10;
    static final int XMM_BYTES = 16;
    /** FXSAVE gives each x87 register a 16-byte slot for its 10 bytes. */
    private static final int ST_SLOT = 16;
    /** MXCSR bits 16-31 are reserved on every CPU: LDMXCSR and XRSTOR raise #GP for them, and KVM refuses them. */
    private static final long MXCSR_RESERVED = 0xffff_0000L;

    /** st{@code i} as hex: the 80-bit value from its FXSAVE slot. */
    static String st(FpuState f, int i) {
        return Hex.bytes(Arrays.copyOfRange(f.fpr(), ST_SLOT * i, ST_SLOT * i + ST_BYTES));
    }

    /** xmm{@code i} as hex. */
    static String xmm(FpuState f, int i) {
        return Hex.bytes(Arrays.copyOfRange(f.xmm(), XMM_BYTES * i, XMM_BYTES * (i + 1)));
    }

    /** {@code f} with xmm{@code i} set to the 16 bytes at {@code offset} of {@code data}; the rest as it was. */
    static FpuState withXmm(FpuState f, int i, byte[] data, int offset) {
        byte[] xmm = f.xmm();
        System.arraycopy(data, offset, xmm, XMM_BYTES * i, XMM_BYTES);
        return f.withXmm(xmm);
    }

    /** {@code f} with MXCSR {@code value}; refused when it sets a reserved bit, as the CPU would refuse it. */
    static FpuState withMxcsr(FpuState f, long value) throws BadPacketException {
        if ((value & MXCSR_RESERVED) != 0) throw new BadPacketException(String.format("MXCSR 0x%x sets reserved bits", value));
        return f.withMxcsr((int) value);
    }

    /**
     * The x87 control register {@code i} of gdb's fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop. In 64-bit
     * FXSAVE the instruction and operand pointers are 64-bit: gdb shows the high half as the "segment".
     */
    static long x87Control(FpuState f, int i) {
        return switch (i) {
            case 0 -> f.fcw();
            case 1 -> f.fsw();
            case 2 -> fullTagWord(f.ftwx());
            case 3 -> f.lastIp() >>> 32;
            case 4 -> f.lastIp() & 0xffff_ffffL;
            case 5 -> f.lastDp() >>> 32;
            case 6 -> f.lastDp() & 0xffff_ffffL;
            case 7 -> f.lastOpcode();
            default -> throw new IllegalArgumentException("no x87 control register " + i);
        };
    }

    /**
     * The x87 tag word from FXSAVE's abridged one (a bit per register: empty or not). A register in use is shown
     * as "valid" (00): telling zero or special values apart would need the value classified, which gdb does not use.
     */
    static int fullTagWord(int abridged) {
        int tags = 0;
        for (int i = 0; i < 8; i++) {
            if ((abridged & (1 << i)) == 0) tags |= 3 << (2 * i);
        }
        return tags;
    }
}
