package org.jhyve.x86;

import org.jhyve.hv.DescriptorTable;

/**
 * INT n (CD ib) completed for a hypervisor whose emulator refused it: the privilege and limit checks INT n makes
 * before delivery (SDM Vol. 3A §6.12.1.1: the gate must lie inside the IDT, and CPL must not exceed the gate's
 * DPL, else #GP with the error code vector * 8 + 2), then RIP past the instruction and the vector delivered
 * through the IDT by the hypervisor, which carries out the gate (the stack switch, the pushes, the new CS:RIP).
 * A gate that is not present is #NP(vector * 8 + 2) here, before delivery (the order the SDM gives: the DPL check,
 * then presence). In real mode the vector table has no
 * privileges: RIP moves on and the vector is delivered. Virtual-8086 mode (IOPL-sensitive, redirection bitmap) is
 * left unsupported.
 */
final class SoftwareInterrupt {
    private SoftwareInterrupt() {}

    private static final int GATE_PRESENT = 0x80;
    private static final int VECTOR_NP = 11;

    static InstructionFallback.Result complete(InstructionContext context) {
        String mnemonic = CompletableInstruction.INT_N.mnemonic();
        if (context.mode() == CpuMode.VIRTUAL_8086) return context.unsupported(mnemonic, "INT n in virtual-8086 mode is not completed");
        int vector = (int) context.instruction().immediates().getFirst().unsignedValue() & 0xff;
        if (!context.mode().isRealAddressing()) {
            int gateSize = context.mode().is64Bit() || context.sregs().longMode() ? 16 : 8;
            DescriptorTable idt = context.sregs().idt();
            int errorCode = vector * 8 + 2; // IDT bit set, EXT clear
            if ((long) vector * gateSize + gateSize - 1 > Integer.toUnsignedLong(idt.limit())) {
                return context.fault(mnemonic, InstructionContext.VECTOR_GP, errorCode, "gate " + vector + " is beyond the IDT's limit");
            }
            byte[] gate = context.memory().readUpTo(idt.base() + (long) vector * gateSize, 8);
            if (gate.length < 8) return context.unsupported(mnemonic, "the IDT gate for vector " + vector + " is not in RAM");
            int access = gate[5] & 0xff;
            int dpl = (access >>> 5) & 3;
            int cpl = context.sregs().cs().dpl();
            if (cpl > dpl) {
                return context.fault(mnemonic, InstructionContext.VECTOR_GP, errorCode, "CPL " + cpl + " above gate " + vector + "'s DPL " + dpl);
            }
            // Checked here, not left to the delivery: the hypervisor delivers an external interrupt, whose #NP would
            // carry the EXT bit (error code + 1) that an INT n's does not.
            if ((access & GATE_PRESENT) == 0) {
                return context.fault(mnemonic, VECTOR_NP, errorCode, "gate " + vector + " is not present");
            }
        }
        // The return address INT n pushes is the next instruction's: RIP first (KVM_SET_REGS would drop a queued event).
        context.vcpu().setRegisters(context.regs().withRip(context.nextRip()));
        context.vcpu().injectSoftwareInterrupt(vector);
        return new InstructionFallback.Result.Completed(mnemonic + " 0x" + Integer.toHexString(vector));
    }
}
