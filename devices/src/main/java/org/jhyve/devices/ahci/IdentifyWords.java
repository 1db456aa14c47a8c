package org.jhyve.devices.ahci;

/**
 * The 256 little-endian words of IDENTIFY (PACKET) DEVICE data, with ATA's string rule and integrity word.
 */
final class IdentifyWords {
    private final int[] words = new int[256];

    IdentifyWords set(int word, int value) {
        words[word] = value & 0xffff;
        return this;
    }

    /** Words {@code word..word+3}, least significant first (the 48-bit capacity lives in 100-103). */
    IdentifyWords setQuad(int word, long value) {
        for (int i = 0; i < 4; i++) set(word + i, (int) (value >>> (16 * i)));
        return this;
    }

    /** Words {@code word, word+1}, least significant first. */
    IdentifyWords setDouble(int word, long value) {
        set(word, (int) value);
        return set(word + 1, (int) (value >>> 16));
    }

    /**
     * An ATA string of {@code count} words: ASCII padded with spaces, the first character of each pair in the
     * high byte of its word (so on the little-endian wire each byte pair appears swapped).
     */
    IdentifyWords setString(int word, int count, String text) {
        for (int i = 0; i < count; i++) {
            int hi = charAt(text, 2 * i), lo = charAt(text, 2 * i + 1);
            set(word + i, hi << 8 | lo);
        }
        return this;
    }

    private static int charAt(String s, int i) {
        return i < s.length() ? s.charAt(i) & 0x7f : ' ';
    }

    /** The 512 bytes, with word 255 as the integrity word: signature A5h and a checksum making all bytes sum to 0. */
    byte[] toBytes() {
        byte[] out = new byte[512];
        words[255] = 0xa5;
        for (int i = 0; i < 256; i++) {
            out[2 * i] = (byte) words[i];
            out[2 * i + 1] = (byte) (words[i] >>> 8);
        }
        int sum = 0;
        for (int i = 0; i < 511; i++) sum += out[i] & 0xff;
        out[511] = (byte) -sum;
        return out;
    }
}
