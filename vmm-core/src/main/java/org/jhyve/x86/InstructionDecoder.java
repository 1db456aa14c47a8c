package org.jhyve.x86;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decodes one x86 instruction from its bytes: prefixes, opcode, ModRM/SIB/displacement and immediates,
 * following the instruction format of SDM Vol. 2 Chapter 2 and the opcode maps of Appendix A.
 *
 * <p>It finds the instruction's parts and length for every one-byte, 0F, 0F38 and 0F3A opcode (legacy or VEX
 * encoded); it does not check each opcode's prefix rules (LOCK on a non-lockable instruction, a mandatory
 * prefix on an "NP" instruction), which is left to whoever executes the instruction. EVEX and AMD XOP
 * encodings are reported as {@link DecodeException.Reason#UNSUPPORTED}.
 *
 * <p>Stateless and thread-safe.
 */
public final class InstructionDecoder {
    /** The architectural maximum instruction length (SDM Vol. 2 §2.3.11); a longer one raises #GP (Vol. 3A §6.15). */
    public static final int MAX_LENGTH = 15;

    /**
     * Decodes the instruction at the start of {@code code}; bytes after it are ignored.
     *
     * @throws DecodeException if the bytes end inside the instruction, make it longer than 15 bytes, or are not
     *                         a defined (or supported) encoding in {@code mode}
     */
    public Instruction decode(byte[] code, CpuMode mode) throws DecodeException {
        CodeReader in = new CodeReader(code, mode);
        Prefixes prefixes = readPrefixes(in, mode);

        int first = in.peek(0);
        if ((first == 0xC4 || first == 0xC5) && startsVex(mode, in.peek(1))) {
            return decodeVex(in, mode, prefixes);
        }
        rejectUnsupportedEncodings(in, mode, first);

        OpcodeMap map = OpcodeMap.PRIMARY;
        int opcode = in.next();
        if (opcode == 0x0F) {
            opcode = in.next();
            map = OpcodeMap.MAP_0F;
            if (opcode == 0x38 || opcode == 0x3A) {
                map = opcode == 0x38 ? OpcodeMap.MAP_0F38 : OpcodeMap.MAP_0F3A;
                opcode = in.next();
            }
        }
        OpcodeInfo info = OpcodeTable.of(map).get(opcode);
        checkDefined(in, mode, map, opcode, info);

        Operands operands = readOperands(in, mode, info, prefixes.segmentOverride(), prefixes.addressSizeOverride(),
                prefixes.rexX(), prefixes.rexB());
        int operandSize = operandSize(mode, info, operands.modRm(), prefixes.rexW(), prefixes.operandSizeOverride());
        List<Immediate> immediates = new ArrayList<>(2);
        if (isSse4aExtract(map, opcode, prefixes)) {
            immediates.add(immediate(in, 1));
            immediates.add(immediate(in, 1));
        } else {
            readImmediates(in, info.immediate(), opcode, operands.modRm(), operandSize, operands.addressSize(), immediates);
        }
        return new Instruction(mode, in.consumed(), prefixes, Optional.empty(), map, opcode, operands.modRm(),
                operands.memory(), immediates, operandSize, operands.addressSize());
    }

    /**
     * Legacy prefixes in any order, then REX in 64-bit mode. A REX followed by another prefix is ignored, as the
     * CPU ignores it (SDM Vol. 2 §2.2.1: REX must immediately precede the opcode or the 0FH escape).
     */
    private static Prefixes readPrefixes(CodeReader in, CpuMode mode) throws DecodeException {
        boolean lock = false;
        boolean operandSize = false;
        boolean addressSize = false;
        RepeatPrefix repeat = RepeatPrefix.NONE;
        Optional<SegmentRegister> segment = Optional.empty();
        int rex = 0;
        while (true) {
            int b = in.peek(0);
            if (mode.is64Bit() && (b & 0xF0) == 0x40) {
                rex = b;
                in.next();
                continue;
            }
            SegmentRegister override = SegmentRegister.ofOverridePrefix(b);
            if (override != null) {
                segment = Optional.of(override);
            } else if (b == 0xF0) {
                lock = true;
            } else if (b == 0xF2) {
                repeat = RepeatPrefix.REPNE;
            } else if (b == 0xF3) {
                repeat = RepeatPrefix.REP;
            } else if (b == 0x66) {
                operandSize = true;
            } else if (b == 0x67) {
                addressSize = true;
            } else {
                return new Prefixes(lock, repeat, segment, operandSize, addressSize, rex);
            }
            rex = 0;
            in.next();
        }
    }

    /**
     * C4H/C5H are VEX in 64-bit mode; in other protected modes only when the next byte's top two bits are 11b,
     * which LES/LDS cannot encode (their operand must be memory). Real and virtual-8086 mode have no VEX.
     * SDM Vol. 2 §2.3.5.
     */
    private static boolean startsVex(CpuMode mode, int nextByte) {
        if (mode.is64Bit()) return true;
        return !mode.isRealAddressing() && (nextByte & 0xC0) == 0xC0;
    }

    /** EVEX (62H, by the same rule as VEX versus BOUND) and AMD XOP (8FH with ModRM.reg != 0, unlike POP Ev). */
    private static void rejectUnsupportedEncodings(CodeReader in, CpuMode mode, int first) throws DecodeException {
        if (first == 0x62 && startsVex(mode, in.peek(1))) {
            throw in.error(DecodeException.Reason.UNSUPPORTED, "EVEX-encoded (AVX-512) instructions are not decoded");
        }
        if (first == 0x8F && (in.peek(1) & 0x38) != 0) {
            throw in.error(DecodeException.Reason.UNSUPPORTED, "AMD XOP-encoded instructions are not decoded");
        }
    }

    /** SDM Vol. 2 §2.3.5 (Figure 2-9) for the fields and §2.3.2 for the prefixes VEX may not follow. */
    private static Instruction decodeVex(CodeReader in, CpuMode mode, Prefixes prefixes) throws DecodeException {
        if (prefixes.lock() || prefixes.operandSizeOverride() || prefixes.repeat() != RepeatPrefix.NONE || prefixes.hasRex()) {
            throw in.error(DecodeException.Reason.INVALID, "a VEX prefix after a 66H, F2H, F3H, F0H or REX prefix is #UD");
        }
        boolean threeByte = in.next() == 0xC4;
        int p0 = in.next();
        int p1 = threeByte ? in.next() : p0;
        OpcodeMap map = threeByte ? vexMap(in, p0 & 0x1F) : OpcodeMap.MAP_0F;
        // R, X, B and vvvv are stored inverted. Outside 64-bit mode only eight registers exist, so the
        // extension bits are ignored there (R and X are necessarily 1 there, or this would be LES/LDS).
        boolean wide = mode.is64Bit();
        Vex vex = new Vex(threeByte ? 3 : 2, map,
                wide && (p0 & 0x80) == 0,
                wide && threeByte && (p0 & 0x40) == 0,
                wide && threeByte && (p0 & 0x20) == 0,
                threeByte && (p1 & 0x80) != 0,
                (~p1 >> 3) & (wide ? 0xF : 0x7),
                (p1 & 0x4) != 0,
                MandatoryPrefix.ofVexPp(p1));

        int opcode = in.next();
        OpcodeInfo info = OpcodeTable.of(map).get(opcode);
        checkDefined(in, mode, map, opcode, info);
        // In VEX map 0F only VZEROUPPER/VZEROALL (77H) go without ModRM: branches, pushes and the like
        // have no VEX form.
        if (!info.hasModRm() && !(map == OpcodeMap.MAP_0F && opcode == 0x77)) {
            throw in.error(DecodeException.Reason.INVALID, String.format("opcode %s%02x has no VEX form", map.escapeBytes(), opcode));
        }
        Operands operands = readOperands(in, mode, info, prefixes.segmentOverride(), prefixes.addressSizeOverride(),
                vex.x(), vex.b());
        int operandSize = mode.is64Bit() && vex.w() ? 64 : mode.defaultOperandSize();
        List<Immediate> immediates = new ArrayList<>(1);
        readImmediates(in, info.immediate(), opcode, operands.modRm(), operandSize, operands.addressSize(), immediates);
        return new Instruction(mode, in.consumed(), prefixes, Optional.of(vex), map, opcode, operands.modRm(),
                operands.memory(), immediates, operandSize, operands.addressSize());
    }

    private static OpcodeMap vexMap(CodeReader in, int mmmmm) throws DecodeException {
        return switch (mmmmm) {
            case 1 -> OpcodeMap.MAP_0F;
            case 2 -> OpcodeMap.MAP_0F38;
            case 3 -> OpcodeMap.MAP_0F3A;
            default -> throw in.error(DecodeException.Reason.INVALID, "reserved VEX opcode map " + mmmmm);
        };
    }

    private static void checkDefined(CodeReader in, CpuMode mode, OpcodeMap map, int opcode, OpcodeInfo info)
            throws DecodeException {
        if (!info.defined()) {
            throw in.error(DecodeException.Reason.INVALID, String.format("undefined opcode %s%02x", map.escapeBytes(), opcode));
        }
        if (mode.is64Bit() && info.longMode() == LongModeRule.INVALID) {
            throw in.error(DecodeException.Reason.INVALID,
                    String.format("opcode %s%02x is invalid in 64-bit mode", map.escapeBytes(), opcode));
        }
    }

    /** ModRM, then SIB and displacement for a memory operand. */
    private record Operands(Optional<ModRm> modRm, Optional<MemoryOperand> memory, int addressSize) {}

    private static Operands readOperands(CodeReader in, CpuMode mode, OpcodeInfo info,
                                         Optional<SegmentRegister> segmentOverride, boolean addressSizeOverride,
                                         boolean extendIndex, boolean extendBase) throws DecodeException {
        int addressSize = addressSize(mode, addressSizeOverride);
        if (!info.hasModRm()) return new Operands(Optional.empty(), Optional.empty(), addressSize);
        ModRm modRm = ModRm.of(in.next());
        if (modRm.isRegisterForm() || info.modRmRegisterOnly()) {
            return new Operands(Optional.of(modRm), Optional.empty(), addressSize);
        }
        MemoryOperand memory = ModRmAddressing.decode(in, modRm, addressSize, mode, segmentOverride, extendIndex, extendBase);
        return new Operands(Optional.of(modRm), Optional.of(memory), addressSize);
    }

    /** SDM Vol. 1 §3.6, Tables 3-3 and 3-4: 67H toggles 16/32, and selects 32 instead of 64 in 64-bit mode. */
    private static int addressSize(CpuMode mode, boolean override) {
        int size = mode.defaultAddressSize();
        if (!override) return size;
        return size == 32 ? 16 : 32;
    }

    /** SDM Vol. 1 §3.6, Tables 3-3 and 3-4, with the d64/f64 exceptions of Vol. 2 Appendix A. */
    private static int operandSize(CpuMode mode, OpcodeInfo info, Optional<ModRm> modRm, boolean rexW,
                                   boolean override) {
        if (!mode.is64Bit()) {
            int size = mode.defaultOperandSize();
            if (!override) return size;
            return size == 32 ? 16 : 32;
        }
        LongModeRule rule = info.longMode();
        if (rule == LongModeRule.GROUP_5) {
            int reg = modRm.map(ModRm::reg).orElse(0);
            rule = reg == 2 || reg == 4 ? LongModeRule.FORCE_64 : reg == 6 ? LongModeRule.DEFAULT_64 : LongModeRule.NORMAL;
        }
        return switch (rule) {
            case FORCE_64 -> 64;
            case DEFAULT_64 -> rexW || !override ? 64 : 16;
            default -> rexW ? 64 : override ? 16 : 32;
        };
    }

    /**
     * AMD SSE4a EXTRQ (66 0F 78 /0 ib ib) and INSERTQ (F2 0F 78 /r ib ib) carry two immediates where Intel's
     * VMREAD (NP 0F 78) has none.
     */
    private static boolean isSse4aExtract(OpcodeMap map, int opcode, Prefixes prefixes) {
        return map == OpcodeMap.MAP_0F && opcode == 0x78
                && (prefixes.repeat() == RepeatPrefix.REPNE
                    || (prefixes.repeat() == RepeatPrefix.NONE && prefixes.operandSizeOverride()));
    }

    private static void readImmediates(CodeReader in, ImmediateKind kind, int opcode, Optional<ModRm> modRm,
                                       int operandSize, int addressSize, List<Immediate> out) throws DecodeException {
        int wordOrDword = operandSize == 16 ? 2 : 4;
        switch (kind) {
            case NONE -> { }
            case BYTE -> out.add(immediate(in, 1));
            case WORD -> out.add(immediate(in, 2));
            case WORD_OR_DWORD -> out.add(immediate(in, wordOrDword));
            case OPERAND_SIZE -> out.add(immediate(in, operandSize / 8));
            case ADDRESS_SIZE -> out.add(immediate(in, addressSize / 8));
            case ENTER -> {
                out.add(immediate(in, 2));
                out.add(immediate(in, 1));
            }
            case FAR_POINTER -> {
                out.add(immediate(in, wordOrDword));
                out.add(immediate(in, 2));
            }
            case GROUP_3_TEST -> {
                if (modRm.orElseThrow().reg() < 2) out.add(immediate(in, (opcode & 1) == 0 ? 1 : wordOrDword));
            }
        }
    }

    private static Immediate immediate(CodeReader in, int size) throws DecodeException {
        return new Immediate(in.nextSigned(size), size);
    }
}
