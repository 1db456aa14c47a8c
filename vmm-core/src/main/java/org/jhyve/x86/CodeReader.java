package org.jhyve.x86;

import java.util.Arrays;

/**
 * A cursor over the bytes of one instruction that enforces the 15-byte limit, telling "the input ran out"
 * (fetch more) apart from "the instruction is too long" (a #GP on a CPU). One per decode, never shared.
 */
final class CodeReader {
    private final byte[] code;
    private final CpuMode mode;
    private int position;

    CodeReader(byte[] code, CpuMode mode) {
        this.code = code;
        this.mode = mode;
    }

    int position() { return position; }

    /** The byte {@code ahead} places past the cursor, unsigned, without consuming it. */
    int peek(int ahead) throws DecodeException {
        int at = position + ahead;
        if (at >= InstructionDecoder.MAX_LENGTH) {
            throw error(DecodeException.Reason.TOO_LONG, "longer than " + InstructionDecoder.MAX_LENGTH + " bytes");
        }
        if (at >= code.length) {
            throw error(DecodeException.Reason.TRUNCATED, "input ends after " + code.length + " bytes, inside the instruction");
        }
        return code[at] & 0xFF;
    }

    /** Consumes one byte, unsigned. */
    int next() throws DecodeException {
        int b = peek(0);
        position++;
        return b;
    }

    /** Consumes a little-endian value of {@code size} bytes (1, 2, 4 or 8), sign-extended to 64 bits. */
    long nextSigned(int size) throws DecodeException {
        long value = 0;
        for (int i = 0; i < size; i++) value |= (long) next() << (8 * i);
        int unusedBits = 64 - 8 * size;
        return value << unusedBits >> unusedBits;
    }

    /** The bytes consumed so far: the instruction once decoding is done. */
    byte[] consumed() {
        return Arrays.copyOf(code, position);
    }

    DecodeException error(DecodeException.Reason reason, String detail) {
        return new DecodeException(reason, detail, Arrays.copyOf(code, Math.min(code.length, InstructionDecoder.MAX_LENGTH)), mode);
    }
}
