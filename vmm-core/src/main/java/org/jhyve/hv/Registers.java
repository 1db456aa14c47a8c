package org.jhyve.hv;

/** The general-purpose registers, RIP and RFLAGS. */
public record Registers(long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
                        long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
                        long rip, long rflags) {

    /** RFLAGS bit 1 is always set on x86. */
    public static final long RFLAGS_RESERVED = 0x2;

    /** All zero except the always-one RFLAGS bit. */
    public static Registers initial(long rip) {
        return new Registers(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, rip, RFLAGS_RESERVED);
    }

    public Registers withRip(long newRip) {
        return new Registers(rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, newRip, rflags);
    }

    public Registers withRsp(long newRsp) {
        return new Registers(rax, rbx, rcx, rdx, rsi, rdi, newRsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags);
    }

    public Registers withRsi(long newRsi) {
        return new Registers(rax, rbx, rcx, rdx, newRsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags);
    }

    public Registers withRbx(long newRbx) {
        return new Registers(rax, newRbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags);
    }

    public Registers withRax(long newRax) {
        return new Registers(newRax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags);
    }
}
