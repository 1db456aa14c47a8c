package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.jhyve.kvm.KvmStructs.KVM_FPU;
import static org.jhyve.kvm.KvmStructs.offset;

import java.lang.foreign.MemorySegment;
import org.jhyve.hv.FpuState;

/** {@link FpuState} to and from {@code kvm_fpu} (the FXSAVE image, rearranged). */
final class FpuCodec {
    private FpuCodec() {}

    private static final long FPR = offset(KVM_FPU, "fpr");
    private static final long FCW = offset(KVM_FPU, "fcw");
    private static final long FSW = offset(KVM_FPU, "fsw");
    private static final long FTWX = offset(KVM_FPU, "ftwx");
    private static final long LAST_OPCODE = offset(KVM_FPU, "last_opcode");
    private static final long LAST_IP = offset(KVM_FPU, "last_ip");
    private static final long LAST_DP = offset(KVM_FPU, "last_dp");
    private static final long XMM = offset(KVM_FPU, "xmm");
    private static final long MXCSR = offset(KVM_FPU, "mxcsr");
    private static final int FPR_BYTES = 8 * 16;
    private static final int XMM_BYTES = 16 * 16;

    static FpuState read(MemorySegment s) {
        byte[] fpr = new byte[FPR_BYTES];
        byte[] xmm = new byte[XMM_BYTES];
        MemorySegment.copy(s, JAVA_BYTE, FPR, fpr, 0, FPR_BYTES);
        MemorySegment.copy(s, JAVA_BYTE, XMM, xmm, 0, XMM_BYTES);
        return new FpuState(fpr, Short.toUnsignedInt(s.get(JAVA_SHORT, FCW)), Short.toUnsignedInt(s.get(JAVA_SHORT, FSW)),
                Byte.toUnsignedInt(s.get(JAVA_BYTE, FTWX)), Short.toUnsignedInt(s.get(JAVA_SHORT, LAST_OPCODE)),
                s.get(JAVA_LONG, LAST_IP), s.get(JAVA_LONG, LAST_DP), xmm, s.get(JAVA_INT, MXCSR));
    }

    static void write(MemorySegment s, FpuState f) {
        s.fill((byte) 0);
        MemorySegment.copy(f.fpr(), 0, s, JAVA_BYTE, FPR, FPR_BYTES);
        MemorySegment.copy(f.xmm(), 0, s, JAVA_BYTE, XMM, XMM_BYTES);
        s.set(JAVA_SHORT, FCW, (short) f.fcw());
        s.set(JAVA_SHORT, FSW, (short) f.fsw());
        s.set(JAVA_BYTE, FTWX, (byte) f.ftwx());
        s.set(JAVA_SHORT, LAST_OPCODE, (short) f.lastOpcode());
        s.set(JAVA_LONG, LAST_IP, f.lastIp());
        s.set(JAVA_LONG, LAST_DP, f.lastDp());
        s.set(JAVA_INT, MXCSR, f.mxcsr());
    }
}
