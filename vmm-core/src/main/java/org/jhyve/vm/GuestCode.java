package org.jhyve.vm;

import java.util.HexFormat;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.memory.GuestMemory;

/** Where a vCPU is in guest code, in words: mode, CS:RIP and the instruction bytes there, for error messages. */
public final class GuestCode {
    private GuestCode() {}

    /** Up to 15 bytes (the longest x86 instruction) at the vCPU's current CS:RIP; fewer where unmapped. */
    public static byte[] instructionBytes(Vcpu vcpu, GuestMemory memory, Registers regs, SpecialRegisters sregs) {
        long linear = sregs.longMode() ? regs.rip() : sregs.cs().base() + regs.rip();
        byte[] out = new byte[15];
        int n = 0;
        for (; n < out.length; n++) {
            long gpa = vcpu.translate(linear + n);
            if (gpa < 0 || !memory.isValid(gpa, 1)) break;
            out[n] = memory.readByte(gpa);
        }
        return java.util.Arrays.copyOf(out, n);
    }

    public static String mode(SpecialRegisters sregs) {
        if (sregs.longMode()) return sregs.cs().l() ? "64-bit" : "compatibility";
        if (!sregs.protectedMode()) return "real";
        return sregs.cs().db() ? "32-bit protected" : "16-bit protected";
    }

    /** "vCPU 0 in 64-bit mode at RIP 0x100010, instruction bytes: 0f 0b" — read from the stopped vCPU. */
    public static String describe(Vcpu vcpu, GuestMemory memory) {
        try {
            Registers regs = vcpu.getRegisters();
            SpecialRegisters sregs = vcpu.getSpecialRegisters();
            byte[] bytes = instructionBytes(vcpu, memory, regs, sregs);
            String where = sregs.longMode()
                    ? String.format("RIP 0x%x", regs.rip())
                    : String.format("CS:IP %04x:%04x (linear 0x%x)", sregs.cs().selector(), regs.rip(), sregs.cs().base() + regs.rip());
            return String.format("vCPU %d in %s mode at %s, instruction bytes: %s", vcpu.index(), mode(sregs), where,
                    bytes.length == 0 ? "(unmapped)" : HexFormat.ofDelimiter(" ").formatHex(bytes));
        } catch (RuntimeException e) {
            return "vCPU " + vcpu.index() + " (registers unreadable: " + e.getMessage() + ")";
        }
    }
}
