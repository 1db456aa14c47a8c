package org.jhyve.gdb;

import java.util.HexFormat;

/**
 * The protocol's numbers: addresses and lengths as big-endian hex text ("1000f"), register values and memory
 * as hex bytes in target (little-endian) order. Malformed text throws {@link BadPacketException}.
 */
final class Hex {
    private Hex() {}

    private static final HexFormat HEX = HexFormat.of();

    static String bytes(byte[] data) {
        return HEX.formatHex(data);
    }

    static byte[] parseBytes(String hex) throws BadPacketException {
        if ((hex.length() & 1) != 0) throw new BadPacketException("odd number of hex digits: " + hex);
        try {
            return HEX.parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new BadPacketException("not hex: " + hex);
        }
    }

    /** An unsigned number such as an address, length or thread id (at most 16 digits). */
    static long parseNumber(String hex) throws BadPacketException {
        if (hex.isEmpty() || hex.length() > 16) throw new BadPacketException("not a hex number: '" + hex + "'");
        try {
            return Long.parseUnsignedLong(hex, 16);
        } catch (NumberFormatException e) {
            throw new BadPacketException("not a hex number: '" + hex + "'");
        }
    }

    static String number(long value) {
        return Long.toHexString(value);
    }

    /** {@code size} bytes of {@code value}, least significant first: how x86 registers travel. */
    static String littleEndian(long value, int size) {
        StringBuilder s = new StringBuilder(size * 2);
        for (int i = 0; i < size; i++) s.append(HEX.toHexDigits((byte) (value >>> (8 * i))));
        return s.toString();
    }

    static long parseLittleEndian(byte[] data, int offset, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) v = v << 8 | (data[offset + i] & 0xff);
        return v;
    }

    /** Text as hex of its bytes (qRcmd output, qThreadExtraInfo). */
    static String text(String s) {
        return HEX.formatHex(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
