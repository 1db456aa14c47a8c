package org.jhyve.x86;

import java.util.Optional;

/**
 * The memory operand a ModRM byte (and SIB, displacement) describes: {@code segment:[base + index*scale + disp]},
 * or {@code [rip + disp]} in 64-bit mode. SDM Vol. 2 §2.1.5, Tables 2-1 (16-bit), 2-2 (32-bit), 2-3 (SIB) and
 * §2.2.1.6 (RIP-relative addressing).
 *
 * @param base             the base register, if any (for 16-bit forms BX, BP, SI or DI)
 * @param index            the index register, if any (for 16-bit forms SI or DI)
 * @param scale            1, 2, 4 or 8
 * @param displacement     the displacement sign-extended to 64 bits (0 when there is none)
 * @param displacementSize 0, 1, 2 or 4 bytes
 * @param ripRelative      the address is relative to the next instruction's RIP (64-bit mode, mod=00 rm=101)
 * @param segment          the segment the access uses: the override if there is one, else the default
 *                         (SS for RSP/RBP-based addressing, DS otherwise)
 * @param addressSize      the effective address size in bits (16, 32 or 64); the offset wraps at this width
 */
public record MemoryOperand(Optional<GeneralRegister> base, Optional<GeneralRegister> index, int scale,
                            long displacement, int displacementSize, boolean ripRelative,
                            SegmentRegister segment, int addressSize) {}
