package org.jhyve.x86;

import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;

/**
 * The processor operating mode that decides how instruction bytes are read: default operand and address
 * sizes, whether REX and VEX exist, and how wide RIP and linear addresses are.
 *
 * <p>Intel SDM Vol. 1 §3.1 (modes of operation) and §3.6, Tables 3-3 and 3-4 (effective operand and
 * address sizes from CS.D, CS.L and the 66H/67H prefixes); Vol. 3A §5.2.1 (the L flag: IA-32e 64-bit versus compatibility mode).
 */
public enum CpuMode {
    /** CR0.PE = 0. Like KVM's emulator we ignore a 32-bit CS cache left over from protected mode ("unreal" code). */
    REAL(16, "real mode"),
    /** Protected mode with RFLAGS.VM = 1: 16-bit, real-mode-style segments. */
    VIRTUAL_8086(16, "virtual-8086 mode"),
    /** Protected mode, CS.D = 0. */
    PROTECTED_16(16, "16-bit protected mode"),
    /** Protected mode, CS.D = 1. */
    PROTECTED_32(32, "32-bit protected mode"),
    /** IA-32e mode (EFER.LMA = 1) with CS.L = 0 and CS.D = 0. */
    COMPAT_16(16, "16-bit compatibility mode"),
    /** IA-32e mode with CS.L = 0 and CS.D = 1. */
    COMPAT_32(32, "32-bit compatibility mode"),
    /** IA-32e mode with CS.L = 1 (CS.D must then be 0; the combination L = D = 1 is reserved). */
    LONG_64(64, "64-bit mode");

    /** RFLAGS.VM, bit 17 (SDM Vol. 1 §3.4.3.3). */
    public static final long RFLAGS_VM = 1L << 17;

    private final int codeSize;
    private final String description;

    CpuMode(int codeSize, String description) {
        this.codeSize = codeSize;
        this.description = description;
    }

    /** The mode from CR0.PE, EFER.LMA and the CS descriptor cache, ignoring virtual-8086 mode. */
    public static CpuMode of(SpecialRegisters sregs) {
        return of(sregs, 0);
    }

    /** The mode from CR0.PE, EFER.LMA, the CS descriptor cache and RFLAGS.VM. */
    public static CpuMode of(SpecialRegisters sregs, long rflags) {
        if (!sregs.protectedMode()) return REAL;
        Segment cs = sregs.cs();
        if (sregs.longMode()) {
            if (cs.l()) return LONG_64;
            return cs.db() ? COMPAT_32 : COMPAT_16;
        }
        // IA-32e mode has no virtual-8086 mode, hence RFLAGS.VM is looked at only here.
        if ((rflags & RFLAGS_VM) != 0) return VIRTUAL_8086;
        return cs.db() ? PROTECTED_32 : PROTECTED_16;
    }

    public boolean is64Bit() { return this == LONG_64; }

    /** Real and virtual-8086 mode: segments are selector * 16 and VEX/EVEX encodings do not exist. */
    public boolean isRealAddressing() { return this == REAL || this == VIRTUAL_8086; }

    /** Default operand size in bits (16 or 32; 32 in 64-bit mode, where REX.W selects 64). */
    public int defaultOperandSize() { return codeSize == 64 ? 32 : codeSize; }

    /** Default address size in bits (16, 32 or 64). */
    public int defaultAddressSize() { return codeSize; }

    /**
     * Masks a new instruction pointer to the width the CPU keeps: 64 bits in 64-bit mode, else EIP's 32 bits.
     * Sequential execution in 16-bit code also keeps 32 bits, as KVM's emulator does (it truncates
     * {@code _eip} to u32 outside 64-bit mode); a 16-bit IP past 0xFFFF would have failed the CS limit check.
     */
    public long maskInstructionPointer(long rip) {
        return is64Bit() ? rip : rip & 0xFFFF_FFFFL;
    }

    /** Linear addresses are 64-bit only in 64-bit mode; everywhere else (compatibility mode too) 32-bit. */
    public long maskLinearAddress(long linear) {
        return is64Bit() ? linear : linear & 0xFFFF_FFFFL;
    }

    /** "64-bit mode", "real mode"... for messages. */
    public String description() { return description; }
}
