package org.jhyve.x86;

import java.util.Optional;

/**
 * The legacy prefixes and REX prefix of one instruction (SDM Vol. 2 §2.1.1 and §2.2.1).
 *
 * @param lock                 F0H was present
 * @param repeat               the last of F2H/F3H, if any
 * @param segmentOverride      the last segment-override prefix, if any (in 64-bit mode ES/CS/SS/DS overrides
 *                             are accepted but have no effect on addresses)
 * @param operandSizeOverride  66H was present
 * @param addressSizeOverride  67H was present
 * @param rex                  the REX byte (40H-4FH) that immediately precedes the opcode, or 0 for none
 */
public record Prefixes(boolean lock, RepeatPrefix repeat, Optional<SegmentRegister> segmentOverride,
                       boolean operandSizeOverride, boolean addressSizeOverride, int rex) {

    public boolean hasRex() { return rex != 0; }

    /** REX.W: 64-bit operand size. */
    public boolean rexW() { return (rex & 0x8) != 0; }

    /** REX.R: extends ModRM.reg. */
    public boolean rexR() { return (rex & 0x4) != 0; }

    /** REX.X: extends SIB.index. */
    public boolean rexX() { return (rex & 0x2) != 0; }

    /** REX.B: extends ModRM.rm, SIB.base or the register in the opcode byte. */
    public boolean rexB() { return (rex & 0x1) != 0; }
}
