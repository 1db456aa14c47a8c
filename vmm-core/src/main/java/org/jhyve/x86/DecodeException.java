package org.jhyve.x86;

import java.util.HexFormat;

/** Bytes that do not form an instruction the decoder knows; the message names the bytes and the mode. */
public final class DecodeException extends Exception {
    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

    /** Why decoding stopped. */
    public enum Reason {
        /** The input ended before the instruction did: fetch more bytes and try again. */
        TRUNCATED,
        /** The instruction would be longer than 15 bytes; a CPU raises #GP(0) (SDM Vol. 3A §6.15, "Interrupt 13"). */
        TOO_LONG,
        /** An opcode or encoding the architecture leaves undefined in this mode (#UD on a CPU). */
        INVALID,
        /** A valid encoding this decoder does not take apart (EVEX, XOP). */
        UNSUPPORTED
    }

    private final Reason reason;
    private final byte[] bytes;
    private final CpuMode mode;

    public DecodeException(Reason reason, String detail, byte[] bytes, CpuMode mode) {
        super(String.format("cannot decode %s in %s: %s",
                bytes.length == 0 ? "(no bytes)" : HEX.formatHex(bytes), mode.description(), detail));
        this.reason = reason;
        this.bytes = bytes.clone();
        this.mode = mode;
    }

    public Reason reason() { return reason; }

    /** The bytes that were examined (at most 15). */
    public byte[] bytes() { return bytes.clone(); }

    public CpuMode mode() { return mode; }
}
