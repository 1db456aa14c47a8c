package org.jhyve.x86;

/**
 * A decoded VEX prefix (SDM Vol. 2 §2.3.5, Figure 2-9): the two-byte form C5H or the three-byte form C4H.
 * Inverted fields (R, X, B, vvvv) are stored un-inverted, so {@code r} true means "extend ModRM.reg".
 *
 * @param size   2 or 3 bytes
 * @param map    the opcode map (implied 0F for C5H; mmmmm for C4H)
 * @param r      the extension of ModRM.reg
 * @param x      the extension of SIB.index (always false in the two-byte form)
 * @param b      the extension of ModRM.rm / SIB.base (always false in the two-byte form)
 * @param w      VEX.W (always false in the two-byte form)
 * @param vvvv   the extra source register number, 0-15 (0 when unused, i.e. encoded 1111b)
 * @param l256   VEX.L: 256-bit vector length
 * @param prefix the implied mandatory prefix from VEX.pp
 */
public record Vex(int size, OpcodeMap map, boolean r, boolean x, boolean b, boolean w, int vvvv, boolean l256,
                  MandatoryPrefix prefix) {}
