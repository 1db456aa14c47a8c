package org.jhyve.gdb;

import java.util.List;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;

/**
 * The register set the stub offers gdb, in the order of its target description ({@link TargetDescription}), which
 * is gdb's own amd64 numbering: the x86-64 core set (16 GPRs, rip, eflags, six segment selectors, the x87 stack and
 * its control words), the SSE feature (xmm0-xmm15, mxcsr) and the segments feature (fs_base, gs_base).
 * {@code g}/{@code G} send them in this order, {@code p}/{@code P} by index; every value is little-endian.
 *
 * <p>Writable: the GPRs, rip, eflags, xmm0-xmm15, mxcsr, fs_base and gs_base. The XMM registers and MXCSR are plain
 * values with no state hidden behind them, so a write replaces just that field of the vCPU's {@link FpuState}; the
 * target writes the whole state back ({@code Vcpu.setFpu}) with the x87 registers, their control words and the
 * rest as it read them. (The AVX upper halves of ymm0-15 are not in FpuState; KVM's FPU write leaves them alone.)
 * A selector alone cannot be loaded without its descriptor, and the x87 registers are rarely what one debugs in
 * a kernel, so both are read-only: {@code G} keeps their current values and {@code P} refuses a change.
 */
final class X86Registers {
    private X86Registers() {}

    /** One register: its gdb name, size, gdb type, target-description feature, and gdb register group ("" for none). */
    record Spec(String name, int bytes, String type, String feature, String group) {}

    static final String CORE = "org.gnu.gdb.i386.core";
    static final String SSE = "org.gnu.gdb.i386.sse";
    static final String SEGMENTS = "org.gnu.gdb.i386.segments";

    /** gdb's order for the general registers: note rbp before rsp, unlike KVM's kvm_regs. */
    private static final List<String> GPR_NAMES = List.of("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
    private static final List<String> SELECTOR_NAMES = List.of("cs", "ss", "ds", "es", "fs", "gs");
    private static final List<String> X87_CONTROL_NAMES = List.of("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop");

    static final int RIP = 16;
    static final int EFLAGS = 17;
    static final int FIRST_SELECTOR = 18;
    static final int FIRST_ST = 24;
    static final int FIRST_X87_CONTROL = 32;
    static final int FIRST_XMM = 40;
    static final int XMM_COUNT = 16;
    static final int MXCSR = 56;
    static final int FS_BASE = 57;
    static final int GS_BASE = 58;

    static final List<Spec> ALL = build();

    private static List<Spec> build() {
        var list = new java.util.ArrayList<Spec>();
        for (String name : GPR_NAMES) {
            list.add(new Spec(name, 8, name.equals("rbp") || name.equals("rsp") ? "data_ptr" : "int64", CORE, ""));
        }
        list.add(new Spec("rip", 8, "code_ptr", CORE, ""));
        list.add(new Spec("eflags", 4, "i386_eflags", CORE, ""));
        for (String name : SELECTOR_NAMES) list.add(new Spec(name, 4, "int32", CORE, ""));
        for (int i = 0; i < 8; i++) list.add(new Spec("st" + i, FpuRegisters.ST_BYTES, "i387_ext", CORE, ""));
        for (String name : X87_CONTROL_NAMES) list.add(new Spec(name, 4, "int", CORE, "float"));
        for (int i = 0; i < XMM_COUNT; i++) list.add(new Spec("xmm" + i, FpuRegisters.XMM_BYTES, "vec128", SSE, ""));
        list.add(new Spec("mxcsr", 4, "i386_mxcsr", SSE, "vector"));
        list.add(new Spec("fs_base", 8, "int", SEGMENTS, ""));
        list.add(new Spec("gs_base", 8, "int", SEGMENTS, ""));
        return List.copyOf(list);
    }

    /** Bytes of a {@code g} reply. */
    static final int TOTAL_BYTES = ALL.stream().mapToInt(Spec::bytes).sum();

    static String encodeAll(CpuState state) {
        StringBuilder s = new StringBuilder(TOTAL_BYTES * 2);
        for (int n = 0; n < ALL.size(); n++) s.append(encode(state, n));
        return s.toString();
    }

    /** Register {@code n} as hex; {@code n} must be a valid index. */
    static String encode(CpuState state, int n) {
        if (n >= FIRST_ST && n < FIRST_X87_CONTROL) return FpuRegisters.st(state.fpu(), n - FIRST_ST);
        if (isXmm(n)) return FpuRegisters.xmm(state.fpu(), n - FIRST_XMM);
        return Hex.littleEndian(value(state, n), ALL.get(n).bytes());
    }

    private static boolean isXmm(int n) {
        return n >= FIRST_XMM && n < FIRST_XMM + XMM_COUNT;
    }

    private static long value(CpuState state, int n) {
        Registers r = state.regs();
        SpecialRegisters s = state.sregs();
        FpuState f = state.fpu();
        if (n < RIP) return gprs(r)[n];
        return switch (n) {
            case RIP -> r.rip();
            case EFLAGS -> r.rflags();
            case 18 -> s.cs().selector();
            case 19 -> s.ss().selector();
            case 20 -> s.ds().selector();
            case 21 -> s.es().selector();
            case 22 -> s.fs().selector();
            case 23 -> s.gs().selector();
            case 32, 33, 34, 35, 36, 37, 38, 39 -> FpuRegisters.x87Control(f, n - FIRST_X87_CONTROL);
            case MXCSR -> Integer.toUnsignedLong(f.mxcsr());
            case FS_BASE -> s.fs().base();
            case GS_BASE -> s.gs().base();
            default -> throw new IllegalArgumentException("no register " + n);
        };
    }

    /** The state after a {@code G}: every writable register from {@code data}, the rest as they were. */
    static CpuState decodeAll(CpuState current, byte[] data) throws BadPacketException {
        if (data.length < TOTAL_BYTES) {
            // gdb sends every register it knows; a shorter G would leave some unset, so refuse rather than guess.
            throw new BadPacketException("G carries " + data.length + " bytes, the register set has " + TOTAL_BYTES);
        }
        CpuState state = current;
        int offset = 0;
        for (int n = 0; n < ALL.size(); n++) {
            int size = ALL.get(n).bytes();
            if (isWritable(n)) state = withRegister(state, n, data, offset);
            offset += size;
        }
        return state;
    }

    /** The state after {@code P n=value}: refused (BadPacketException) for a read-only register that would change. */
    static CpuState decodeOne(CpuState current, int n, byte[] value) throws BadPacketException {
        if (n < 0 || n >= ALL.size()) throw new BadPacketException("no register " + n);
        if (value.length != ALL.get(n).bytes()) throw new BadPacketException("register " + ALL.get(n).name() + " has " + ALL.get(n).bytes() + " bytes");
        if (isWritable(n)) return withRegister(current, n, value, 0);
        if (encode(current, n).equals(Hex.bytes(value))) return current;
        throw new BadPacketException("register " + ALL.get(n).name() + " is read-only");
    }

    static boolean isWritable(int n) {
        return n <= EFLAGS || isXmm(n) || n == MXCSR || n == FS_BASE || n == GS_BASE;
    }

    /** {@code state} with writable register {@code n} set from its bytes at {@code offset} of {@code data}. */
    private static CpuState withRegister(CpuState state, int n, byte[] data, int offset) throws BadPacketException {
        if (isXmm(n)) return withFpu(state, FpuRegisters.withXmm(state.fpu(), n - FIRST_XMM, data, offset));
        long v = Hex.parseLittleEndian(data, offset, ALL.get(n).bytes());
        if (n == MXCSR) return withFpu(state, FpuRegisters.withMxcsr(state.fpu(), v));
        return withValue(state, n, v);
    }

    private static CpuState withFpu(CpuState state, FpuState fpu) {
        return new CpuState(state.regs(), state.sregs(), fpu);
    }

    /** A GPR, rip, eflags, fs_base or gs_base. */
    private static CpuState withValue(CpuState state, int n, long v) {
        if (n <= EFLAGS) {
            long[] values = gprs(state.regs());
            // eflags is 32 bits in gdb's set; the upper half of RFLAGS is reserved (zero).
            values[n] = n == EFLAGS ? v & 0xffff_ffffL : v;
            return new CpuState(registers(values), state.sregs(), state.fpu());
        }
        SpecialRegisters s = state.sregs();
        SpecialRegisters changed = n == FS_BASE ? s.withFs(s.fs().withBase(v)) : s.withGs(s.gs().withBase(v));
        return new CpuState(state.regs(), changed, state.fpu());
    }

    /** The GPRs in gdb's order, then rip and rflags. */
    private static long[] gprs(Registers r) {
        return new long[] {r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rbp(), r.rsp(),
                r.r8(), r.r9(), r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15(), r.rip(), r.rflags()};
    }

    private static Registers registers(long[] v) {
        return new Registers(v[0], v[1], v[2], v[3], v[4], v[5], v[7], v[6],
                v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17]);
    }
}
