package org.jhyve.x86;

import java.util.List;
import java.util.OptionalLong;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.memory.GuestMemory;
import org.jhyve.x86.OperandMemory.BusAccess;

/**
 * Carries out the instruction that stopped a vCPU on an access to a guest-physical address that is not RAM,
 * for hypervisors that report only the address (Hypervisor.framework's EPT violations): fetch the instruction
 * at CS:RIP through the guest's paging, decode it, perform it against the MMIO bus (and RAM for its other
 * operand), and hand back the registers and flags it leaves, RIP past it. xhyve's vmm_instruction_emul.c
 * does the same job.
 *
 * <p>Emulated: MOV (88H-8BH, C6H/C7H, A0H-A3H), MOVZX, MOVSX, MOVSXD, ADD/OR/ADC/SBB/AND/SUB/XOR/CMP (00H-3BH
 * and 80H-83H), TEST (84H/85H, F6H/F7H /0), BT/BTS/BTR/BTC, PUSH m (FF /6), POP m (8F /0), STOS and MOVS with
 * or without REP. A REP string instruction does one iteration per call and leaves RIP on itself while RCX is
 * not zero (see {@link MmioStringInstructions}). Everything else is {@link MmioResult.Unsupported}.
 *
 * <p>Stateless: one instance may serve every vCPU. Its methods run on the vCPU's own thread while the vCPU is
 * stopped, between two runs, with the registers read at that exit; the bus and the paging are called on that
 * thread.
 */
public final class MmioInstructionEmulator {
    private static final long PAGE_OFFSET = 0xFFF;

    private final InstructionFetch fetch = new InstructionFetch();

    /**
     * Emulates the instruction at CS:RIP, which accessed {@code faultingGpa}.
     *
     * @param regs        the vCPU's registers at the exit, RIP on the instruction
     * @param sregs       its special registers (mode, segment bases, CPL, CR4.LA57)
     * @param paging      the guest's page tables, for the instruction bytes and the RAM-side operands
     * @param memory      guest RAM
     * @param faultingGpa the guest-physical address the exit reported
     * @param bus         the MMIO devices; called once or twice (reads before writes), or not at all for a fault
     * @return the new registers, the exception to inject (nothing else changed), or why not emulated (nothing
     *         changed)
     */
    public MmioResult emulate(Registers regs, SpecialRegisters sregs, LinearTranslator paging, GuestMemory memory,
                              long faultingGpa, MmioBus bus) {
        return run(regs, sregs, paging, memory, faultingGpa, bus, false).result();
    }

    /**
     * The access the instruction at CS:RIP makes to {@code faultingGpa}: what KVM reports in an MMIO exit for
     * the same instruction (address, length, direction, data for a write), for cross-checking this emulator
     * against KVM's. A function of the state alone: the bus is not called and nothing is written (RAM is
     * only read: the instruction bytes, the stack for POP, the source of MOVS).
     *
     * <p>For a read-modify-write it is the read, reported as {@link MmioDescription.Direction#READ_MODIFY_WRITE}
     * (KVM exits for the read, then for the write).
     */
    public MmioDescription describe(Registers regs, SpecialRegisters sregs, LinearTranslator paging, GuestMemory memory,
                                    long faultingGpa) {
        Run run = run(regs, sregs, paging, memory, faultingGpa, null, true);
        if (!(run.result() instanceof MmioResult.Completed)) return new MmioDescription.NoAccess(run.result().toString());
        List<BusAccess> atGpa = run.busAccesses().stream().filter(a -> a.gpa() == faultingGpa).toList();
        if (atGpa.isEmpty()) {
            return new MmioDescription.NoAccess(String.format("the instruction makes no access to 0x%x", faultingGpa));
        }
        BusAccess first = atGpa.getFirst();
        if (first.write()) {
            return new MmioDescription.Access(faultingGpa, first.size(), MmioDescription.Direction.WRITE,
                    OptionalLong.of(first.value()));
        }
        boolean writesBack = atGpa.stream().skip(1).anyMatch(BusAccess::write);
        return new MmioDescription.Access(faultingGpa, first.size(),
                writesBack ? MmioDescription.Direction.READ_MODIFY_WRITE : MmioDescription.Direction.READ,
                OptionalLong.empty());
    }

    /**
     * As {@link #describe}, for the instruction at CS:RIP only if it is {@code length} bytes long; null when no
     * instruction of that length starts there. For a hypervisor that reports an MMIO write after completing the
     * instruction (KVM: RIP is already past it), the caller tries each length back from RIP.
     */
    public MmioDescription describeInstruction(Registers regs, SpecialRegisters sregs, LinearTranslator paging, GuestMemory memory,
                                               long faultingGpa, int length) {
        CpuMode mode = CpuMode.of(sregs, regs.rflags());
        try {
            if (fetch.fetch(new LinearMemory(paging, memory, mode), regs, sregs, mode).length() != length) return null;
        } catch (DecodeException | LinearAccessException e) {
            return null;
        }
        return describe(regs, sregs, paging, memory, faultingGpa);
    }

    private record Run(MmioResult result, List<BusAccess> busAccesses) {}

    private Run run(Registers regs, SpecialRegisters sregs, LinearTranslator paging, GuestMemory memory,
                    long faultingGpa, MmioBus bus, boolean dryRun) {
        CpuMode mode = CpuMode.of(sregs, regs.rflags());
        Instruction insn;
        try {
            insn = fetch.fetch(new LinearMemory(paging, memory, mode), regs, sregs, mode);
        } catch (DecodeException | LinearAccessException e) {
            return new Run(new MmioResult.Unsupported(String.format("cannot emulate the instruction at RIP 0x%x in %s: %s",
                    regs.rip(), mode.description(), e.getMessage())), List.of());
        }
        if (MmioInstructionSet.operandAddressIsPlain(insn)) {
            long linear = EffectiveAddress.of(insn, regs, sregs).linear();
            if ((linear & PAGE_OFFSET) != (faultingGpa & PAGE_OFFSET)) {
                return new Run(unsupported(insn, regs, String.format(
                        "its operand at linear 0x%x cannot be the faulting address 0x%x", linear, faultingGpa)), List.of());
            }
        }
        OperandMemory operands = new OperandMemory(mode, sregs, paging, memory, bus, faultingGpa, dryRun);
        GprState state = new GprState(regs);
        try {
            MmioInstructionSet.execute(new MmioExecution(insn, state, sregs, operands));
        } catch (GuestExceptionSignal e) {
            return new Run(e.toFault(), operands.busAccesses());
        } catch (UnsupportedMmioSignal e) {
            return new Run(unsupported(insn, regs, e.getMessage()), operands.busAccesses());
        }
        return new Run(new MmioResult.Completed(state.toRegisters()), operands.busAccesses());
    }

    private static MmioResult.Unsupported unsupported(Instruction insn, Registers regs, String why) {
        return new MmioResult.Unsupported(String.format("cannot emulate %s (%s) at RIP 0x%x in %s: %s", insn.hex(),
                InstructionNames.describe(insn), regs.rip(), insn.mode().description(), why));
    }
}
