package org.jhyve.x86;

/**
 * The opcode maps of SDM Vol. 2 Appendix A: one-byte (Table A-2), two-byte after 0FH (Table A-3) and the
 * three-byte maps after 0F 38H and 0F 3AH (Tables ). VEX selects the last three with its mmmmm field.
 */
public enum OpcodeMap {
    PRIMARY(""),
    MAP_0F("0f "),
    MAP_0F38("0f 38 "),
    MAP_0F3A("0f 3a ");

    private final String escape;

    OpcodeMap(String escape) { this.escape = escape; }

    /** The escape bytes that select this map in legacy encoding, as hex with a trailing space ("" for PRIMARY). */
    public String escapeBytes() { return escape; }
}
