package org.jhyve.gdb;

import java.nio.charset.StandardCharsets;

/**
 * Framing of the remote serial protocol: {@code $payload#cc}, where {@code cc} is the modulo-256 sum of the
 * payload's bytes as two hex digits. Payloads are byte strings; this package carries them as ISO-8859-1
 * {@code String}s (one char per byte), so binary data ({@code X} packets, target.xml) passes unchanged.
 *
 * <p>{@code $}, {@code #}, {@code }} and {@code *} inside a payload are sent as {@code }} followed by the
 * byte XOR 0x20: {@code *} must be escaped too, since gdb reads it as run-length encoding in replies. The stub
 * never run-length encodes what it sends; gdb never does in what it sends.
 */
public final class PacketFrames {
    private PacketFrames() {}

    static final char ESCAPE = '}';
    static final int INTERRUPT = 0x03;

    /** The bytes to send for {@code payload}: escaped, framed and checksummed. */
    public static byte[] frame(String payload) {
        StringBuilder s = new StringBuilder(payload.length() + 4).append('$');
        int sum = 0;
        for (int i = 0; i < payload.length(); i++) {
            char c = payload.charAt(i);
            if (c > 0xff) throw new IllegalArgumentException("payload chars are bytes (ISO-8859-1): " + (int) c);
            if (mustEscape(c)) {
                s.append(ESCAPE).append((char) (c ^ 0x20));
                sum += ESCAPE + (c ^ 0x20);
            } else {
                s.append(c);
                sum += c;
            }
        }
        s.append('#').append(Hex.littleEndian(sum & 0xff, 1));
        return s.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    static boolean mustEscape(char c) {
        return c == '$' || c == '#' || c == ESCAPE || c == '*';
    }

    /** The checksum of the bytes as sent (after escaping). */
    static int checksum(CharSequence sent) {
        int sum = 0;
        for (int i = 0; i < sent.length(); i++) sum += sent.charAt(i);
        return sum & 0xff;
    }
}
