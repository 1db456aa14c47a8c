package org.jhyve.x86;

/**
 * The three fields of a ModRM byte as encoded, without REX/VEX extension bits (SDM Vol. 2 §2.1.5, Figure 2-1).
 *
 * @param mod 0-3; 3 means {@code rm} names a register, anything else a memory operand
 * @param reg 0-7; a register, or an opcode extension written "/digit" in the SDM
 * @param rm  0-7
 */
public record ModRm(int mod, int reg, int rm) {
    public ModRm {
        if ((mod | reg | rm) < 0 || mod > 3 || reg > 7 || rm > 7) {
            throw new IllegalArgumentException("ModRM fields out of range: mod=" + mod + " reg=" + reg + " rm=" + rm);
        }
    }

    static ModRm of(int b) {
        return new ModRm(b >> 6 & 3, b >> 3 & 7, b & 7);
    }

    public boolean isRegisterForm() { return mod == 3; }

    /** The byte this was decoded from. */
    public int toByte() { return mod << 6 | reg << 3 | rm; }
}
