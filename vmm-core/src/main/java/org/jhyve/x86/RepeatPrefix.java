package org.jhyve.x86;

/** The group-1 repeat prefixes (SDM Vol. 2 §2.1.1); when both appear the last one counts, as on hardware. */
public enum RepeatPrefix {
    NONE,
    /** F3H: REP / REPE / REPZ, or the mandatory prefix F3 of an SSE opcode. */
    REP,
    /** F2H: REPNE / REPNZ, or the mandatory prefix F2 of an SSE opcode. */
    REPNE
}
