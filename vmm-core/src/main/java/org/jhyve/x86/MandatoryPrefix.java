package org.jhyve.x86;

/**
 * The prefix that selects among instructions sharing an opcode in the 0F, 0F38 and 0F3A maps
 * (SDM Vol. 2 §2.1.2 and the "NP"/"66"/"F3"/"F2" columns of Appendix A, Tables ). In legacy
 * encoding F2/F3 take precedence over 66H; in VEX encoding the {@code pp} field supplies it.
 */
public enum MandatoryPrefix {
    NONE(""),
    OPSIZE_66("66 "),
    REP_F3("f3 "),
    REPNE_F2("f2 ");

    private final String hex;

    MandatoryPrefix(String hex) { this.hex = hex; }

    /** The prefix byte as hex with a trailing space, "" for none. */
    public String hex() { return hex; }

    /** From VEX.pp (SDM Vol. 2 §2.3.5.6): 00 none, 01 66, 10 F3, 11 F2. */
    static MandatoryPrefix ofVexPp(int pp) {
        return switch (pp & 3) {
            case 0 -> NONE;
            case 1 -> OPSIZE_66;
            case 2 -> REP_F3;
            default -> REPNE_F2;
        };
    }
}
