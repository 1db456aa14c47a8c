package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import org.jhyve.hv.Registers;

/** {@link Registers} to and from {@code kvm_regs}: eighteen u64 in the record's component order. */
final class RegsCodec {
    private RegsCodec() {}

    static Registers read(MemorySegment s) {
        long[] v = new long[18];
        for (int i = 0; i < v.length; i++) v[i] = s.get(JAVA_LONG, i * 8L);
        return new Registers(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11],
                v[12], v[13], v[14], v[15], v[16], v[17]);
    }

    static void write(MemorySegment s, Registers r) {
        long[] v = {r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rsp(), r.rbp(), r.r8(), r.r9(),
            r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15(), r.rip(), r.rflags()};
        for (int i = 0; i < v.length; i++) s.set(JAVA_LONG, i * 8L, v[i]);
    }
}
