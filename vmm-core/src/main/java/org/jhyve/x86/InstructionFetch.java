package org.jhyve.x86;

import java.util.HexFormat;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;

/**
 * Reads and decodes the instruction at CS:RIP through the guest's paging: up to 15 bytes, stopping at the
 * first page that is not mapped RAM, so an instruction that ends before such a page still decodes.
 */
final class InstructionFetch {
    private final InstructionDecoder decoder = new InstructionDecoder();

    Instruction fetch(LinearMemory memory, Registers regs, SpecialRegisters sregs, CpuMode mode)
            throws DecodeException, LinearAccessException {
        long codeAddress = mode.maskLinearAddress(EffectiveAddress.segmentBase(mode, SegmentRegister.CS, sregs) + regs.rip());
        byte[] fetched = memory.readUpTo(codeAddress, InstructionDecoder.MAX_LENGTH);
        if (fetched.length == 0) {
            throw new LinearAccessException(codeAddress, "(CS:RIP) is not mapped to RAM");
        }
        try {
            return decoder.decode(fetched, mode);
        } catch (DecodeException e) {
            if (e.reason() != DecodeException.Reason.TRUNCATED) throw e;
            throw new LinearAccessException(mode.maskLinearAddress(codeAddress + fetched.length),
                    "(inside the instruction at CS:RIP) is not mapped to RAM; bytes read: "
                            + HexFormat.ofDelimiter(" ").formatHex(fetched));
        }
    }
}
