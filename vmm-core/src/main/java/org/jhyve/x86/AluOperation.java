package org.jhyve.x86;

/**
 * The eight group-1 arithmetic operations in their encoding order: ModRM.reg of 80H/81H/83H, and bits 5:3 of
 * the 00H-3BH opcodes (SDM Vol. 2 Table A-2 and Table A-6).
 */
enum AluOperation {
    ADD, OR, ADC, SBB, AND, SUB, XOR, CMP;

    private static final AluOperation[] BY_ENCODING = values();

    static AluOperation ofEncoding(int encoding) {
        return BY_ENCODING[encoding & 7];
    }

    /** CMP computes SUB's flags and throws the difference away. */
    boolean writesResult() { return this != CMP; }
}
