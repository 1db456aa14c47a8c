package org.jhyve.x86;

import static org.jhyve.x86.GeneralRegister.RBP;
import static org.jhyve.x86.GeneralRegister.RBX;
import static org.jhyve.x86.GeneralRegister.RDI;
import static org.jhyve.x86.GeneralRegister.RSI;
import static org.jhyve.x86.GeneralRegister.RSP;

import java.util.Optional;

/** Reads the SIB byte and displacement that follow a memory-form ModRM and describes the operand. */
final class ModRmAddressing {
    private ModRmAddressing() {}

    /**
     * @param extendIndex REX.X / VEX.X
     * @param extendBase  REX.B / VEX.B
     */
    static MemoryOperand decode(CodeReader in, ModRm modRm, int addressSize, CpuMode mode,
                                Optional<SegmentRegister> override, boolean extendIndex, boolean extendBase)
            throws DecodeException {
        if (modRm.isRegisterForm()) throw new IllegalArgumentException("ModRM " + modRm + " names a register");
        return addressSize == 16
                ? decode16(in, modRm, override)
                : decode32or64(in, modRm, addressSize, mode, override, extendIndex, extendBase);
    }

    /** SDM Vol. 2 Table 2-1: the eight BX/BP/SI/DI combinations, and mod=00 rm=110 as a bare disp16. */
    private static MemoryOperand decode16(CodeReader in, ModRm modRm, Optional<SegmentRegister> override)
            throws DecodeException {
        int mod = modRm.mod();
        if (mod == 0 && modRm.rm() == 6) {
            return new MemoryOperand(Optional.empty(), Optional.empty(), 1, in.nextSigned(2), 2, false,
                    override.orElse(SegmentRegister.DS), 16);
        }
        GeneralRegister base = switch (modRm.rm()) {
            case 0, 1, 7 -> RBX;
            case 2, 3, 6 -> RBP;
            case 4 -> RSI;
            default -> RDI;
        };
        Optional<GeneralRegister> index = switch (modRm.rm()) {
            case 0, 2 -> Optional.of(RSI);
            case 1, 3 -> Optional.of(RDI);
            default -> Optional.empty();
        };
        int displacementSize = mod == 1 ? 1 : mod == 2 ? 2 : 0;
        long displacement = displacementSize == 0 ? 0 : in.nextSigned(displacementSize);
        // BP-based forms address the stack: their default segment is SS (Table 2-1 note 1; Vol. 1 §3.7.4, Table 3-5).
        SegmentRegister segment = override.orElse(base == RBP ? SegmentRegister.SS : SegmentRegister.DS);
        return new MemoryOperand(Optional.of(base), index, 1, displacement, displacementSize, false, segment, 16);
    }

    /**
     * SDM Vol. 2 Tables 2-2 and 2-3, with REX extension (§2.2.1.2, Table 2-5): rm=100 brings a SIB byte,
     * SIB.index=100 means no index (unless REX.X makes it R12), base=101 with mod=00 means disp32 and no base
     * (even with REX.B), and mod=00 rm=101 is disp32 in legacy modes but RIP+disp32 in 64-bit mode (§2.2.1.6).
     */
    private static MemoryOperand decode32or64(CodeReader in, ModRm modRm, int addressSize, CpuMode mode,
                                              Optional<SegmentRegister> override, boolean extendIndex,
                                              boolean extendBase) throws DecodeException {
        int mod = modRm.mod();
        Optional<GeneralRegister> base = Optional.empty();
        Optional<GeneralRegister> index = Optional.empty();
        int scale = 1;
        boolean ripRelative = false;
        int displacementSize = mod == 1 ? 1 : mod == 2 ? 4 : 0;

        if (modRm.rm() == 4) {
            int sib = in.next();
            scale = 1 << (sib >> 6);
            int indexEncoding = (sib >> 3 & 7) | (extendIndex ? 8 : 0);
            if (indexEncoding != 4) index = Optional.of(GeneralRegister.ofEncoding(indexEncoding));
            if ((sib & 7) == 5 && mod == 0) {
                displacementSize = 4;
            } else {
                base = Optional.of(GeneralRegister.ofEncoding((sib & 7) | (extendBase ? 8 : 0)));
            }
        } else if (modRm.rm() == 5 && mod == 0) {
            displacementSize = 4;
            ripRelative = mode.is64Bit();
        } else {
            base = Optional.of(GeneralRegister.ofEncoding(modRm.rm() | (extendBase ? 8 : 0)));
        }
        long displacement = displacementSize == 0 ? 0 : in.nextSigned(displacementSize);
        // ESP/EBP-based addresses are stack references: default segment SS (Vol. 1 §3.7.4, Table 3-5).
        boolean stack = base.isPresent() && (base.get() == RSP || base.get() == RBP);
        SegmentRegister segment = override.orElse(stack ? SegmentRegister.SS : SegmentRegister.DS);
        return new MemoryOperand(base, index, scale, displacement, displacementSize, ripRelative, segment, addressSize);
    }
}
