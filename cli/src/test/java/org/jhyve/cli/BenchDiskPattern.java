package org.jhyve.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The disk image the block benchmark guests check (guests/src/main/c/bench-virtio-blk.c, bench-ahci.c), made as
 * scripts/bench/disk-pattern.c makes it, so that a test needs no C compiler: 512-byte sector {@code s} holds the
 * little-endian words {@code s} and {@code ~s ^ MAGIC}, then 62 words shared by every sector (xorshift64 from a
 * fixed seed). The guests print the FNV-1a (32-bit) of the bytes they verified as {@code hash=}.
 */
final class BenchDiskPattern {
    static final int SECTOR = 512;
    private static final long MAGIC = 0x6a68797665626c6bL; // "jhyveblk"
    private static final int CHUNK = 1 << 20;

    private BenchDiskPattern() {}

    /** Writes {@code bytes} (a positive multiple of 512) of the pattern to {@code image}, replacing it. */
    static void write(Path image, long bytes) {
        if (bytes <= 0 || bytes % SECTOR != 0) throw new IllegalArgumentException("not a positive multiple of 512: " + bytes);
        long[] shared = sharedWords();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long at = 0; at < bytes; at += CHUNK) {
                int n = (int) Math.min(CHUNK, bytes - at);
                buf.clear();
                for (long s = at / SECTOR; s < (at + n) / SECTOR; s++) {
                    buf.putLong(s).putLong(~s ^ MAGIC);
                    for (int j = 2; j < SECTOR / 8; j++) buf.putLong(shared[j]);
                }
                buf.flip();
                while (buf.hasRemaining()) ch.write(buf);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The FNV-1a (32-bit) of the first {@code bytes} of {@code image}, as the guests' {@code hash=} (print it with %x). */
    static int fnv1a(Path image, long bytes) {
        int h = 0x811c9dc5;
        byte[] buf = new byte[CHUNK];
        try (InputStream in = Files.newInputStream(image)) {
            for (long left = bytes; left > 0; ) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) throw new IllegalArgumentException(image + " has fewer than " + bytes + " bytes");
                for (int i = 0; i < n; i++) {
                    h ^= buf[i] & 0xff;
                    h *= 0x01000193;
                }
                left -= n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return h;
    }

    /** Words 2-63 of every sector (0 and 1 unused): xorshift64 from the seed disk-pattern.c uses. */
    private static long[] sharedWords() {
        long[] w = new long[SECTOR / 8];
        long x = 0x9e3779b97f4a7c15L;
        for (int j = 2; j < w.length; j++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            w[j] = x;
        }
        return w;
    }
}
