package org.jhyve.x86;

/** How many immediate bytes follow an opcode, in the notation of SDM Vol. 2 Appendix A.2.2 (operand types). */
enum ImmediateKind {
    NONE,
    /** Ib: one byte. */
    BYTE,
    /** Iw: two bytes (RET/RETF imm16). */
    WORD,
    /** Iz: two bytes at 16-bit operand size, else four (also sign-extended to 64 bits at REX.W). */
    WORD_OR_DWORD,
    /** Iv: the full operand size, 2/4/8 bytes; only MOV r, imm (B8H-BFH) has the 8-byte form. */
    OPERAND_SIZE,
    /** Ob: a moffs of the address size (MOV AL/rAX to and from A0H-A3H). */
    ADDRESS_SIZE,
    /** ENTER: Iw then Ib. */
    ENTER,
    /** Ap: a far pointer, offset of the operand size then a 16-bit selector (CALLF/JMPF 9AH/EAH). */
    FAR_POINTER,
    /** Group 3 (F6H/F7H): only /0 and /1 (TEST) take an immediate, Ib for F6H and Iz for F7H (Table A-6). */
    GROUP_3_TEST
}
