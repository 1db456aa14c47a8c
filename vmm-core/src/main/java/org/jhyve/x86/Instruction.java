package org.jhyve.x86;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * One decoded x86 instruction: where its parts are and how long it is, not yet what it does.
 *
 * @param mode            the mode it was decoded in
 * @param bytes           exactly the instruction's bytes (defensive copies in and out)
 * @param prefixes        legacy and REX prefixes
 * @param vex             the VEX prefix, for VEX-encoded instructions
 * @param map             the opcode map
 * @param opcode          the opcode byte within {@code map}
 * @param modRm           the ModRM byte, if the opcode takes one
 * @param memoryOperand   the memory operand ModRM describes, absent for register forms and opcodes without ModRM
 * @param immediates      immediates and relative offsets in encoding order (two for ENTER and far pointers)
 * @param operandSize     the effective operand-size attribute in bits, 16/32/64 (SDM Vol. 1 §3.6); byte-sized
 *                        opcodes still report it, and SSE opcodes whose 66H is a mandatory prefix report 16
 * @param addressSize     the effective address-size attribute in bits, 16/32/64
 *
 * <p>Two instructions are equal when their mode and bytes are: decoding is a function of those two.
 */
public record Instruction(CpuMode mode, byte[] bytes, Prefixes prefixes, Optional<Vex> vex, OpcodeMap map, int opcode,
                          Optional<ModRm> modRm, Optional<MemoryOperand> memoryOperand, List<Immediate> immediates,
                          int operandSize, int addressSize) {
    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

    public Instruction {
        if (bytes.length < 1 || bytes.length > InstructionDecoder.MAX_LENGTH) {
            throw new IllegalArgumentException("an instruction is 1 to 15 bytes, not " + bytes.length);
        }
        bytes = bytes.clone();
        immediates = List.copyOf(immediates);
    }

    @Override
    public byte[] bytes() { return bytes.clone(); }

    /** Total length in bytes, prefixes included. */
    public int length() { return bytes.length; }

    /** The bytes as lowercase hex separated by spaces: "0f ae 54 24 fc". */
    public String hex() { return HEX.formatHex(bytes); }

    public boolean isVexEncoded() { return vex.isPresent(); }

    /** The prefix that selects the instruction within an SSE opcode slot; always NONE in the one-byte map. */
    public MandatoryPrefix mandatoryPrefix() {
        if (vex.isPresent()) return vex.get().prefix();
        if (map == OpcodeMap.PRIMARY) return MandatoryPrefix.NONE;
        return switch (prefixes.repeat()) {
            case REP -> MandatoryPrefix.REP_F3;
            case REPNE -> MandatoryPrefix.REPNE_F2;
            case NONE -> prefixes.operandSizeOverride() ? MandatoryPrefix.OPSIZE_66 : MandatoryPrefix.NONE;
        };
    }

    /** ModRM.reg extended by REX.R or VEX.R: a register number 0-15, or the "/digit" opcode extension. */
    public int regField() {
        int reg = modRm.orElseThrow(() -> new IllegalStateException(hex() + " has no ModRM byte")).reg();
        boolean r = vex.map(Vex::r).orElse(prefixes.rexR());
        return r ? reg | 8 : reg;
    }

    /** The opcode in SDM notation: map escape, opcode byte and "/digit" when ModRM.reg extends it. */
    public String opcodeText() {
        String prefix = vex.isPresent() ? "vex " + mandatoryPrefix().hex() : mandatoryPrefix().hex();
        String text = prefix + map.escapeBytes() + String.format("%02x", opcode);
        return modRm.map(m -> text + " /" + m.reg()).orElse(text);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Instruction other && mode == other.mode && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return mode.hashCode() * 31 + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "Instruction[" + hex() + " in " + mode.description() + ": " + opcodeText()
                + ", operand size " + operandSize + ", address size " + addressSize
                + memoryOperand.map(m -> ", " + m).orElse("")
                + (immediates.isEmpty() ? "" : ", immediates " + immediates) + "]";
    }
}
