package org.jhyve.gdb;

import java.util.List;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;

/**
 * The register set the stub offers gdb, in the order of its target description ({@link TargetDescription}):
 * gdb's x86-64 core set (16 GPRs, rip, eflags, six segment selectors, the x87 stack and its control words)
 * and the segments feature (fs_base, gs_base). {@code g}/{@code G} send them in this order, {@code p}/{@code P}
 * by index; every value is little-endian.
 *
 * <p>Writable: the GPRs, rip, eflags, fs_base and gs_base. A selector alone cannot be loaded without its
 * descriptor, and the x87 registers are rarely what one debugs in a kernel, so both are read-only: {@code G}
 * keeps their current values and {@code P} refuses a change.
 */
final class X86Registers {
    private X86Registers() {}

    /** One register: its gdb name, size, gdb type, and target-description feature. */
    record Spec(String name, int bytes, String type, String feature) {}

    static final String CORE = "org.gnu.gdb.i386.core";
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
    static final int FS_BASE = 40;
    static final int GS_BASE = 41;

    static final List<Spec> ALL = build();

    private static List<Spec> build() {
        var list = new java.util.ArrayList<Spec>();
        for (String name : GPR_NAMES) {
            list.add(new Spec(name, 8, name.equals("rbp") || name.equals("rsp") ? "data_ptr" : "int64", CORE));
        }
        list.add(new Spec("rip", 8, "code_ptr", CORE));
        list.add(new Spec("eflags", 4, "i386_eflags", CORE));
        for (String name : SELECTOR_NAMES) list.add(new Spec(name, 4, "int32", CORE));
        for (int i = 0; i < 8; i++) list.add(new Spec("st" + i, 10, "i387_ext", CORE));
        for (String name : X87_CONTROL_NAMES) list.add(new Spec(name, 4, "int", CORE));
        list.add(new Spec("fs_base", 8, "int", SEGMENTS));
        list.add(new Spec("gs_base", 8, "int", SEGMENTS));
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
        Spec spec = ALL.get(n);
        if (n < FIRST_ST || n >= FIRST_X87_CONTROL) return Hex.littleEndian(value(state, n), spec.bytes());
        byte[] st = java.util.Arrays.copyOfRange(state.fpu().fpr(), 16 * (n - FIRST_ST), 16 * (n - FIRST_ST) + 10);
        return Hex.bytes(st);
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
            case 32 -> f.fcw();
            case 33 -> f.fsw();
            case 34 -> fullTagWord(f.ftwx());
            // In 64-bit FXSAVE the instruction and operand pointers are 64-bit: gdb shows the high half as the "segment".
            case 35 -> f.lastIp() >>> 32;
            case 36 -> f.lastIp() & 0xffff_ffffL;
            case 37 -> f.lastDp() >>> 32;
            case 38 -> f.lastDp() & 0xffff_ffffL;
            case 39 -> f.lastOpcode();
            case FS_BASE -> s.fs().base();
            case GS_BASE -> s.gs().base();
            default -> throw new IllegalArgumentException("no register " + n);
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
            if (isWritable(n)) state = withValue(state, n, Hex.parseLittleEndian(data, offset, size));
            offset += size;
        }
        return state;
    }

    /** The state after {@code P n=value}: refused (BadPacketException) for a read-only register that would change. */
    static CpuState decodeOne(CpuState current, int n, byte[] value) throws BadPacketException {
        if (n < 0 || n >= ALL.size()) throw new BadPacketException("no register " + n);
        if (value.length != ALL.get(n).bytes()) throw new BadPacketException("register " + ALL.get(n).name() + " has " + ALL.get(n).bytes() + " bytes");
        if (isWritable(n)) return withValue(current, n, Hex.parseLittleEndian(value, 0, value.length));
        if (encode(current, n).equals(Hex.bytes(value))) return current;
        throw new BadPacketException("register " + ALL.get(n).name() + " is read-only");
    }

    static boolean isWritable(int n) {
        return n <= EFLAGS || n == FS_BASE || n == GS_BASE;
    }

    private static CpuState withValue(CpuState state, int n, long v) {
        if (n <= EFLAGS) {
            long[] values = gprs(state.regs());
            // eflags is 32 bits in gdb's set; the upper half of RFLAGS is reserved (zero).
            values[n] = n == EFLAGS ? v & 0xffff_ffffL : v;
            return new CpuState(registers(values), state.sregs(), state.fpu());
        }
        SpecialRegisters s = state.sregs();
        SpecialRegisters changed = n == FS_BASE
                ? new SpecialRegisters(s.cs(), s.ds(), s.es(), withBase(s.fs(), v), s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(), s.idt(),
                        s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase())
                : new SpecialRegisters(s.cs(), s.ds(), s.es(), s.fs(), withBase(s.gs(), v), s.ss(), s.tr(), s.ldt(), s.gdt(), s.idt(),
                        s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase());
        return new CpuState(state.regs(), changed, state.fpu());
    }

    private static Segment withBase(Segment g, long base) {
        return new Segment(base, g.limit(), g.selector(), g.type(), g.present(), g.dpl(), g.db(), g.s(), g.l(), g.g(), g.avl(), g.unusable());
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
