package org.jhyve.x86;

/**
 * Arithmetic and logic on 1-, 2-, 4- and 8-byte operands with the status flags the SDM defines for each
 * (Vol. 1 §3.4.3.1, Appendix A; Vol. 2 per instruction). Pure functions.
 *
 * <p>AND, OR, XOR and TEST clear CF and OF and set SF, ZF and PF from the result; AF is undefined for them
 * and is cleared here, as Intel and AMD processors do.
 */
final class AluFlags {
    static final long CF = 1L;
    static final long PF = 1L << 2;
    static final long AF = 1L << 4;
    static final long ZF = 1L << 6;
    static final long SF = 1L << 7;
    static final long DF = 1L << 10;
    static final long OF = 1L << 11;
    /** The six status flags arithmetic instructions write. */
    static final long STATUS = CF | PF | AF | ZF | SF | OF;

    /** A result in the low bytes of {@code value} and the six status flags (other bits zero) in {@code flags}. */
    record Outcome(long value, long flags) {}

    private AluFlags() {}

    /**
     * {@code destination op source}; {@code carryIn} is RFLAGS.CF, used by ADC and SBB. Both operands are
     * taken modulo the size.
     */
    static Outcome compute(AluOperation op, long destination, long source, int size, boolean carryIn) {
        long mask = GprState.mask(size);
        long a = destination & mask;
        long b = source & mask;
        return switch (op) {
            case ADD -> add(a, b, 0, size);
            case ADC -> add(a, b, carryIn ? 1 : 0, size);
            case SUB, CMP -> subtract(a, b, 0, size);
            case SBB -> subtract(a, b, carryIn ? 1 : 0, size);
            case AND -> logic(a & b, size);
            case OR -> logic(a | b, size);
            case XOR -> logic(a ^ b, size);
        };
    }

    /** The flags of AND, OR, XOR and TEST for {@code result}. */
    static Outcome logic(long result, int size) {
        long r = result & GprState.mask(size);
        return new Outcome(r, resultFlags(r, size));
    }

    private static Outcome add(long a, long b, long carry, int size) {
        long r = a + b + carry & GprState.mask(size);
        long sign = signBit(size);
        // Carry out of the top bit: both top bits set, or one set and no 1 left in the result's top bit.
        long carryOut = (a & b | (a | b) & ~r) & sign;
        long overflow = (a ^ r) & (b ^ r) & sign;
        return new Outcome(r, resultFlags(r, size) | (carryOut != 0 ? CF : 0) | (overflow != 0 ? OF : 0)
                | (a ^ b ^ r) & AF);
    }

    private static Outcome subtract(long a, long b, long borrow, int size) {
        long r = a - b - borrow & GprState.mask(size);
        long sign = signBit(size);
        long borrowOut = (~a & b | (~a | b) & r) & sign;
        long overflow = (a ^ b) & (a ^ r) & sign;
        return new Outcome(r, resultFlags(r, size) | (borrowOut != 0 ? CF : 0) | (overflow != 0 ? OF : 0)
                | (a ^ b ^ r) & AF);
    }

    /** SF, ZF and PF; PF looks only at the low byte, set when it has an even number of ones. */
    private static long resultFlags(long r, int size) {
        long flags = 0;
        if ((r & signBit(size)) != 0) flags |= SF;
        if (r == 0) flags |= ZF;
        if ((Long.bitCount(r & 0xFF) & 1) == 0) flags |= PF;
        return flags;
    }

    private static long signBit(int size) {
        return 1L << 8 * size - 1;
    }
}
