package org.jhyve.firmware;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Builds one ACPI table: the 36-byte System Description Table header (ACPI 6.4 §5.2.6) followed by
 * the body, with the length and checksum filled in when done (all bytes sum to zero).
 */
final class AcpiTable {
    static final String OEM_ID = "JHYVE ";
    static final String OEM_TABLE_ID = "JHYVE   ";
    static final int HEADER_SIZE = 36;

    private final ByteBuffer buf;

    AcpiTable(String signature, int revision, int capacity) {
        buf = ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
        ascii(signature, 4);
        buf.putInt(0); // length, filled in by bytes()
        buf.put((byte) revision);
        buf.put((byte) 0); // checksum, filled in by bytes()
        ascii(OEM_ID, 6);
        ascii(OEM_TABLE_ID, 8);
        buf.putInt(1); // OEM revision
        ascii("JHYV", 4); // creator ID
        buf.putInt(1); // creator revision
    }

    AcpiTable u8(int v) { buf.put((byte) v); return this; }

    AcpiTable u16(int v) { buf.putShort((short) v); return this; }

    AcpiTable u32(long v) { buf.putInt((int) v); return this; }

    AcpiTable u64(long v) { buf.putLong(v); return this; }

    AcpiTable raw(byte[] bytes) { buf.put(bytes); return this; }

    AcpiTable zeros(int n) { buf.put(new byte[n]); return this; }

    /** A Generic Address Structure (§5.2.3.2) in system I/O space. */
    AcpiTable ioAddress(int bitWidth, int accessSize, long port) {
        return u8(1).u8(bitWidth).u8(0).u8(accessSize).u64(port);
    }

    AcpiTable noAddress() {
        return zeros(12);
    }

    int position() { return buf.position(); }

    private void ascii(String s, int width) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        if (b.length != width) throw new IllegalArgumentException(s + " is not " + width + " characters");
        buf.put(b);
    }

    byte[] bytes() {
        int length = buf.position();
        buf.putInt(4, length);
        byte[] out = java.util.Arrays.copyOf(buf.array(), length);
        out[9] = checksum(out, 0, length);
        return out;
    }

    /** The byte that makes {@code b[from, from+len)} sum to zero (mod 256), given its checksum byte is 0 now. */
    static byte checksum(byte[] b, int from, int len) {
        int sum = 0;
        for (int i = from; i < from + len; i++) sum += b[i];
        return (byte) -sum;
    }
}
