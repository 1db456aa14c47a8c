package org.jhyve.x86;

import java.util.HexFormat;
import java.util.Optional;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.memory.GuestMemory;

/**
 * Completes, in the VMM, the instructions KVM's in-kernel emulator gives up on (an emulation-failure
 * internal error): {@code int3}, {@code fwait}, {@code ldmxcsr}/{@code stmxcsr} and their VEX forms, which a
 * 6.x Linux kernel runs on every boot, and {@code int n}, which kvm-unit-tests' eventinj runs in 64-bit mode. See the shared kvm-on-this-machine.md, section "Instructions KVM's
 * emulator cannot execute".
 *
 * <p>Each is completed as a CPU would: the instruction's effect and RIP past it, or the exception the CPU would
 * raise with RIP left on it. Anything else is reported {@link Result.Unsupported} with the vCPU untouched.
 *
 * <p>Stateless: construct one anywhere. {@link #complete} must run on the vCPU's own thread while it is
 * stopped, between two runs (the register accessors require it).
 */
public final class InstructionFallback {
    private final InstructionDecoder decoder = new InstructionDecoder();

    /** What {@link #complete} did. */
    public sealed interface Result {
        /**
         * The instruction was carried out, or the exception a CPU would raise for it was queued; either way the
         * vCPU can run on.
         */
        record Completed(String mnemonic) implements Result {}

        /** Nothing was changed; {@code description} names the instruction bytes, RIP and mode, and why. */
        record Unsupported(String description) implements Result {}
    }

    /**
     * Decodes and completes the instruction at the vCPU's CS:RIP.
     *
     * @param reportedBytes the instruction bytes the hypervisor reported with the exit, or empty to fetch them
     *                      from guest memory through the vCPU's page tables
     * @throws UnsupportedOperationException from {@link Vcpu#injectException} if the hypervisor cannot inject
     *                      exceptions (for a trap such as int3, RIP has already been advanced by then)
     */
    public Result complete(Vcpu vcpu, GuestMemory memory, byte[] reportedBytes) {
        Registers regs = vcpu.getRegisters();
        SpecialRegisters sregs = vcpu.getSpecialRegisters();
        CpuMode mode = CpuMode.of(sregs, regs.rflags());
        LinearMemory linearMemory = new LinearMemory(vcpu, memory, mode);

        Instruction insn;
        try {
            insn = decode(reportedBytes, linearMemory, regs, sregs, mode);
        } catch (DecodeException e) {
            return new Result.Unsupported(String.format("cannot complete the instruction at RIP 0x%x: %s",
                    regs.rip(), e.getMessage()));
        } catch (LinearAccessException e) {
            return new Result.Unsupported(String.format("cannot complete the instruction at RIP 0x%x in %s: %s",
                    regs.rip(), mode.description(), e.getMessage()));
        }
        InstructionContext context = new InstructionContext(vcpu, linearMemory, insn, regs, sregs);
        Optional<CompletableInstruction> known = CompletableInstruction.identify(insn);
        if (known.isEmpty()) {
            return context.unsupported(InstructionNames.describe(insn), "not an instruction jhyve completes");
        }
        return switch (known.get()) {
            // #BP is a trap: the handler sees RIP after the int3 (Linux's do_int3 subtracts 1 to find it).
            case INT3 -> context.retireWithTrap(known.get().mnemonic(), InstructionContext.VECTOR_BP);
            case INT_N -> SoftwareInterrupt.complete(context);
            case FWAIT -> FwaitInstruction.complete(context);
            case LDMXCSR, VLDMXCSR -> MxcsrInstructions.load(context, known.get());
            case STMXCSR, VSTMXCSR -> MxcsrInstructions.store(context, known.get());
        };
    }

    /**
     * Decodes the reported bytes, or, when there are none or they stop short of the instruction's end, the
     * bytes at CS:RIP.
     */
    private Instruction decode(byte[] reportedBytes, LinearMemory memory, Registers regs, SpecialRegisters sregs,
                               CpuMode mode) throws DecodeException, LinearAccessException {
        if (reportedBytes.length > 0) {
            try {
                return decoder.decode(reportedBytes, mode);
            } catch (DecodeException e) {
                if (e.reason() != DecodeException.Reason.TRUNCATED) throw e;
            }
        }
        long codeAddress = mode.maskLinearAddress(EffectiveAddress.segmentBase(mode, SegmentRegister.CS, sregs) + regs.rip());
        byte[] fetched = memory.readUpTo(codeAddress, InstructionDecoder.MAX_LENGTH);
        if (fetched.length == 0) {
            throw new LinearAccessException(codeAddress, "(CS:RIP) is not mapped to RAM, so no instruction bytes could be read");
        }
        try {
            return decoder.decode(fetched, mode);
        } catch (DecodeException e) {
            if (e.reason() != DecodeException.Reason.TRUNCATED) throw e;
            long end = mode.maskLinearAddress(codeAddress + fetched.length);
            throw new LinearAccessException(end, "(inside the instruction at CS:RIP) is not mapped to RAM; bytes read: "
                    + HexFormat.ofDelimiter(" ").formatHex(fetched));
        }
    }
}
