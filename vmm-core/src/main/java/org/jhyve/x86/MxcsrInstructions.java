package org.jhyve.x86;

import static org.jhyve.x86.InstructionContext.NO_ERROR_CODE;
import static org.jhyve.x86.InstructionContext.VECTOR_GP;
import static org.jhyve.x86.InstructionContext.VECTOR_NM;
import static org.jhyve.x86.InstructionContext.VECTOR_SS;
import static org.jhyve.x86.InstructionContext.VECTOR_UD;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.SpecialRegisters;

/**
 * LDMXCSR/STMXCSR m32 and their VEX forms (SDM Vol. 2 "LDMXCSR", "STMXCSR"), with the exceptions a CPU raises,
 * in the priority order of Vol. 3A §6.9 (Table 6-2): decode-time #UD and #NM, then memory faults, then the
 * #GP for reserved MXCSR bits, which needs the loaded value.
 */
final class MxcsrInstructions {
    /**
     * MXCSR bits 16-31 are reserved. The architectural mask is MXCSR_MASK from FXSAVE; it is 0xFFFF on every
     * processor with DAZ, i.e. every x86-64 processor (SDM Vol. 1 §11.6.6).
     */
    static final int MXCSR_RESERVED = 0xFFFF_0000;

    private static final long CR0_EM = 1L << 2;
    private static final long CR0_TS = 1L << 3;
    private static final long CR4_OSFXSR = 1L << 9;
    private static final long CR4_OSXSAVE = 1L << 18;

    private MxcsrInstructions() {}

    static InstructionFallback.Result load(InstructionContext c, CompletableInstruction which) {
        EffectiveAddress ea = EffectiveAddress.of(c.instruction(), c.regs(), c.sregs());
        Optional<InstructionFallback.Result> refused = checkAvailable(c, which).or(() -> checkCanonical(c, which, ea));
        if (refused.isPresent()) return refused.get();
        int value;
        try {
            value = ByteBuffer.wrap(c.memory().read(ea.linear(), 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
        } catch (LinearAccessException e) {
            return c.unsupported(which.mnemonic(), e.getMessage() + " (a CPU would raise #PF; not emulated)");
        }
        if ((value & MXCSR_RESERVED) != 0) {
            return c.fault(which.mnemonic(), VECTOR_GP, 0, String.format("reserved MXCSR bits in 0x%08x", value));
        }
        FpuState fpu = c.vcpu().getFpu();
        c.vcpu().setFpu(fpu.withMxcsr(value));
        return c.retire(which.mnemonic());
    }

    static InstructionFallback.Result store(InstructionContext c, CompletableInstruction which) {
        EffectiveAddress ea = EffectiveAddress.of(c.instruction(), c.regs(), c.sregs());
        Optional<InstructionFallback.Result> refused = checkAvailable(c, which).or(() -> checkCanonical(c, which, ea));
        if (refused.isPresent()) return refused.get();
        byte[] value = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(c.vcpu().getFpu().mxcsr()).array();
        try {
            c.memory().write(ea.linear(), value);
        } catch (LinearAccessException e) {
            return c.unsupported(which.mnemonic(), e.getMessage() + " (a CPU would raise #PF; not emulated)");
        }
        return c.retire(which.mnemonic());
    }

    /**
     * Legacy SSE: #UD if CR0.EM = 1 or CR4.OSFXSR = 0. VEX: #UD if CR4.OSXSAVE = 0 (XCR0, which a CPU also
     * checks, is not visible through the SPI). Both: #NM if CR0.TS = 1. Empty when the instruction may run.
     */
    private static Optional<InstructionFallback.Result> checkAvailable(InstructionContext c, CompletableInstruction which) {
        SpecialRegisters s = c.sregs();
        if (which.isVex() ? (s.cr4() & CR4_OSXSAVE) == 0 : (s.cr0() & CR0_EM) != 0 || (s.cr4() & CR4_OSFXSR) == 0) {
            return Optional.of(c.fault(which.mnemonic(), VECTOR_UD, NO_ERROR_CODE, "SSE state not enabled"));
        }
        if ((s.cr0() & CR0_TS) != 0) {
            return Optional.of(c.fault(which.mnemonic(), VECTOR_NM, NO_ERROR_CODE, "CR0.TS is set"));
        }
        return Optional.empty();
    }

    /** A non-canonical address in 64-bit mode is #GP(0), or #SS(0) through SS (SDM Vol. 3A §6.15). */
    private static Optional<InstructionFallback.Result> checkCanonical(InstructionContext c,
                                                                      CompletableInstruction which, EffectiveAddress ea) {
        if (!c.mode().is64Bit() || EffectiveAddress.isCanonical(ea.linear(), c.sregs())) return Optional.empty();
        int vector = ea.segment() == SegmentRegister.SS ? VECTOR_SS : VECTOR_GP;
        return Optional.of(c.fault(which.mnemonic(), vector, 0, String.format("non-canonical address 0x%x", ea.linear())));
    }
}
