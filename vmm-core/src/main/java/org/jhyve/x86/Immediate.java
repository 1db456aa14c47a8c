package org.jhyve.x86;

/**
 * An immediate operand or a relative branch offset, as encoded in the instruction.
 *
 * @param value the encoded value sign-extended to 64 bits (most x86 immediates are used sign-extended)
 * @param size  its size in bytes: 1, 2, 4 or 8
 */
public record Immediate(long value, int size) {
    public Immediate {
        if (size != 1 && size != 2 && size != 4 && size != 8) throw new IllegalArgumentException("immediate size " + size);
    }

    /** The value zero-extended from its encoded size. */
    public long unsignedValue() {
        return size == 8 ? value : value & ((1L << (8 * size)) - 1);
    }
}
