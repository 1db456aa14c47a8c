package org.jhyve.x86;

import static org.jhyve.x86.InstructionContext.NO_ERROR_CODE;
import static org.jhyve.x86.InstructionContext.VECTOR_MF;
import static org.jhyve.x86.InstructionContext.VECTOR_NM;

/**
 * WAIT/FWAIT (SDM Vol. 2 "WAIT/FWAIT"): makes the CPU check for pending unmasked x87 exceptions.
 *
 * <ul>
 *   <li>CR0.MP and CR0.TS both set: #NM, so a lazy-FPU kernel can load the task's x87 state first.</li>
 *   <li>FSW.ES (bit 7, "error summary", set while any unmasked exception flag is set; Vol. 1 §8.1.3.1):
 *       #MF with CR0.NE = 1. It is a fault: the saved RIP points at the FWAIT (Vol. 3A §6.15, Interrupt 16).
 *       With CR0.NE = 0 a PC reports it through FERR# and IRQ 13 instead, which jhyve does not model.</li>
 *   <li>Otherwise nothing is pending and FWAIT is a no-op: RIP moves past it. This is the case Linux hits on
 *       every task exit.</li>
 * </ul>
 */
final class FwaitInstruction {
    private static final long CR0_MP = 1L << 1;
    private static final long CR0_TS = 1L << 3;
    private static final long CR0_NE = 1L << 5;
    private static final int FSW_ES = 1 << 7;

    private FwaitInstruction() {}

    static InstructionFallback.Result complete(InstructionContext c) {
        String mnemonic = CompletableInstruction.FWAIT.mnemonic();
        long cr0 = c.sregs().cr0();
        if ((cr0 & CR0_MP) != 0 && (cr0 & CR0_TS) != 0) {
            return c.fault(mnemonic, VECTOR_NM, NO_ERROR_CODE, "CR0.MP and CR0.TS are set");
        }
        if ((c.vcpu().getFpu().fsw() & FSW_ES) != 0) {
            if ((cr0 & CR0_NE) == 0) {
                return c.unsupported(mnemonic, "an x87 exception is pending and CR0.NE = 0 asks for FERR#/IRQ 13 reporting, which is not modelled");
            }
            return c.fault(mnemonic, VECTOR_MF, NO_ERROR_CODE, "unmasked x87 exception pending (FSW.ES)");
        }
        return c.retire(mnemonic);
    }
}
