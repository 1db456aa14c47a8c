package org.jhyve.firmware;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The few ACPI Machine Language encodings jhyve's DSDT needs (ACPI 6.4, chapter 20): names, integers,
 * packages, buffers, scopes and devices, each returned as bytes so terms nest by concatenation.
 */
final class Aml {
    private Aml() {}

    static final byte ZERO = 0x00, ONE = 0x01;

    /** A 4-character name segment, or a root path such as {@code \_SB_}. */
    static byte[] nameString(String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        if (!(b.length == 4 || (b.length == 5 && b[0] == '\\'))) throw new IllegalArgumentException("name segment: " + name);
        return b;
    }

    /** Name(NAME, value). */
    static byte[] name(String name, byte[] value) {
        return cat(new byte[] {0x08}, nameString(name), value);
    }

    /** The shortest integer encoding of {@code v} (Zero, One, Byte, Word or DWord constant). */
    static byte[] integer(long v) {
        if (v == 0) return new byte[] {ZERO};
        if (v == 1) return new byte[] {ONE};
        if (v <= 0xff) return new byte[] {0x0a, (byte) v};
        if (v <= 0xffff) return new byte[] {0x0b, (byte) v, (byte) (v >>> 8)};
        if (v <= 0xffff_ffffL) return new byte[] {0x0c, (byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
        throw new IllegalArgumentException("QWord constants are not needed here: " + v);
    }

    /** EISAID("PNP0A03") as the DWord it compresses to. */
    static byte[] eisaId(String id) {
        if (id.length() != 7) throw new IllegalArgumentException("EISA ID: " + id);
        int vendor = (id.charAt(0) - 0x40) << 10 | (id.charAt(1) - 0x40) << 5 | (id.charAt(2) - 0x40);
        int product = Integer.parseInt(id.substring(3), 16);
        // Stored big-endian within the little-endian DWord: vendor bytes, then product bytes.
        long v = (vendor >>> 8 & 0xff) | (vendor & 0xff) << 8 | (long) (product >>> 8 & 0xff) << 16 | (long) (product & 0xff) << 24;
        return new byte[] {0x0c, (byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    /** Package() { elements } with {@code count} elements already encoded in {@code body}. */
    static byte[] packageOf(int count, byte[] body) {
        if (count > 255) throw new IllegalArgumentException("package of " + count);
        return cat(new byte[] {0x12}, pkgLength(1 + body.length), new byte[] {(byte) count}, body);
    }

    /** Buffer() { bytes }, as ResourceTemplate() produces. */
    static byte[] buffer(byte[] contents) {
        byte[] size = integer(contents.length);
        return cat(new byte[] {0x11}, pkgLength(size.length + contents.length), size, contents);
    }

    /** Scope(path) { terms }. */
    static byte[] scope(String path, byte[] terms) {
        byte[] n = nameString(path);
        return cat(new byte[] {0x10}, pkgLength(n.length + terms.length), n, terms);
    }

    /** Device(NAME) { terms }. */
    static byte[] device(String name, byte[] terms) {
        byte[] n = nameString(name);
        return cat(new byte[] {0x5b, (byte) 0x82}, pkgLength(n.length + terms.length), n, terms);
    }

    /** PkgLength (§20.2.4) for a package whose contents after the PkgLength are {@code contentLength} bytes. */
    static byte[] pkgLength(int contentLength) {
        // The encoded length counts the PkgLength bytes themselves.
        if (contentLength + 1 < 0x40) return new byte[] {(byte) (contentLength + 1)};
        for (int extra = 1; extra <= 3; extra++) {
            int total = contentLength + 1 + extra;
            if (total < 1 << (4 + 8 * extra)) {
                byte[] out = new byte[1 + extra];
                out[0] = (byte) (extra << 6 | (total & 0xf));
                for (int i = 1; i <= extra; i++) out[i] = (byte) (total >>> (4 + 8 * (i - 1)));
                return out;
            }
        }
        throw new IllegalArgumentException("package too long: " + contentLength);
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
