package org.jhyve.hv;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * x87/SSE state (kvm_fpu): eight 16-byte x87 registers, sixteen 16-byte XMM registers, and the control words.
 * Arrays are defensive copies, and compared by content: two reads of an unchanged vCPU are equal, so a caller
 * can skip writing back what it did not change (the record's own equals would compare array identities).
 */
public record FpuState(byte[] fpr, int fcw, int fsw, int ftwx, int lastOpcode, long lastIp, long lastDp,
                       byte[] xmm, int mxcsr) {
    public FpuState {
        if (fpr.length != 128 || xmm.length != 256) throw new IllegalArgumentException("fpr is 8x16, xmm 16x16 bytes");
        fpr = fpr.clone();
        xmm = xmm.clone();
    }

    @Override public byte[] fpr() { return fpr.clone(); }

    @Override public byte[] xmm() { return xmm.clone(); }

    /** The power-on state: x87 control word 0x37f, MXCSR 0x1f80. */
    public static FpuState initial() {
        return new FpuState(new byte[128], 0x37f, 0, 0, 0, 0, 0, new byte[256], 0x1f80);
    }

    public FpuState withMxcsr(int value) {
        return new FpuState(fpr, fcw, fsw, ftwx, lastOpcode, lastIp, lastDp, xmm, value);
    }

    /** The same state with all sixteen XMM registers replaced ({@code value}: 16x16 bytes, xmm0 first). */
    public FpuState withXmm(byte[] value) {
        return new FpuState(fpr, fcw, fsw, ftwx, lastOpcode, lastIp, lastDp, value, mxcsr);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FpuState f && Arrays.equals(fpr, f.fpr) && fcw == f.fcw && fsw == f.fsw && ftwx == f.ftwx
                && lastOpcode == f.lastOpcode && lastIp == f.lastIp && lastDp == f.lastDp && Arrays.equals(xmm, f.xmm)
                && mxcsr == f.mxcsr;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(fpr), fcw, fsw, ftwx, lastOpcode, lastIp, lastDp, Arrays.hashCode(xmm), mxcsr);
    }

    /** With the arrays in hex, so that a failed comparison shows what differs. */
    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return String.format("FpuState[fpr=%s, fcw=%#x, fsw=%#x, ftwx=%#x, lastOpcode=%#x, lastIp=%#x, lastDp=%#x, xmm=%s, mxcsr=%#x]",
                hex.formatHex(fpr), fcw, fsw, ftwx, lastOpcode, lastIp, lastDp, hex.formatHex(xmm), mxcsr);
    }
}
