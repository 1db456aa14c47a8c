package org.jhyve.hv;

/**
 * x87/SSE state (kvm_fpu): eight 16-byte x87 registers, sixteen 16-byte XMM registers, and the control words.
 * Arrays are defensive copies.
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
}
