package org.jhyve.x86;

/**
 * What 64-bit mode does to an opcode, from the superscripts of SDM Vol. 2 Appendix A Tables
 * ("i64", "d64", "f64") and Vol. 1 §3.6.1.
 */
enum LongModeRule {
    /** Operand size from REX.W and 66H as usual: 64, else 16 with 66H, else 32. */
    NORMAL,
    /** i64: the opcode is invalid in 64-bit mode. */
    INVALID,
    /** d64: operand size defaults to 64; 66H selects 16; 32 cannot be encoded (PUSH, POP, LEAVE...). */
    DEFAULT_64,
    /**
     * f64: operand size is forced to 64 (near branches). Intel CPUs ignore 66H here, AMD honour it; we follow
     * Intel, the vendor jhyve presents, so {@code 66 e8} still carries a rel32.
     */
    FORCE_64,
    /** Group 5 (FFH): /2 and /4 are f64 (near CALL/JMP), /6 is d64 (PUSH), the rest are NORMAL (Table A-6). */
    GROUP_5
}
