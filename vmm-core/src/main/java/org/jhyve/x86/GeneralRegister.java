package org.jhyve.x86;

import java.util.List;
import org.jhyve.hv.Registers;

/** The sixteen general-purpose registers in encoding order: ModRM/SIB field value plus 8 for REX.R/X/B. */
public enum GeneralRegister {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15;

    private static final List<GeneralRegister> BY_ENCODING = List.of(values());

    /** The register with 4-bit encoding {@code encoding} (0..15). */
    public static GeneralRegister ofEncoding(int encoding) {
        return BY_ENCODING.get(encoding);
    }

    public int encoding() { return ordinal(); }

    /** The full 64-bit value of this register in {@code regs}. */
    public long read(Registers regs) {
        return switch (this) {
            case RAX -> regs.rax();
            case RCX -> regs.rcx();
            case RDX -> regs.rdx();
            case RBX -> regs.rbx();
            case RSP -> regs.rsp();
            case RBP -> regs.rbp();
            case RSI -> regs.rsi();
            case RDI -> regs.rdi();
            case R8 -> regs.r8();
            case R9 -> regs.r9();
            case R10 -> regs.r10();
            case R11 -> regs.r11();
            case R12 -> regs.r12();
            case R13 -> regs.r13();
            case R14 -> regs.r14();
            case R15 -> regs.r15();
        };
    }
}
