package org.jhyve.x86;

import java.util.HexFormat;

/** Instruction bytes written as in a disassembly listing: "48 8b 44 24 08". */
final class Hex {
    private Hex() {}

    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }
}
