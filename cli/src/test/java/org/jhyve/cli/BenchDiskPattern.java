package org.jhyve.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The disk image the block benchmark guests check (guests/src/main/c/bench-virtio-blk.c), as
 * scripts/bench/disk-pattern.c writes it for the benchmarks: 512-byte sector s holds the little-endian words s
 * and ~s ^ MAGIC, then 62 words shared by every sector, an xorshift64 sequence from a fixed seed.
 */
final class BenchDiskPattern {
    static final int SECTOR = 512;
    private static final long MAGIC = 0x6a68797665626c6bL; // "jhyveblk"

    private BenchDiskPattern() {}

    /** Writes {@code bytes} (whole sectors) of the pattern to {@code image}. */
    static void write(Path image, long bytes) throws IOException {
        if (bytes <= 0 || bytes % SECTOR != 0) throw new IllegalArgumentException(bytes + " is not whole sectors");
        ByteBuffer sector = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        long x = 0x9e3779b97f4a7c15L;
        for (int j = 2; j < SECTOR / 8; j++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            sector.putLong(8 * j, x);
        }
        try (OutputStream out = Files.newOutputStream(image)) {
            for (long s = 0; s < bytes / SECTOR; s++) {
                sector.putLong(0, s).putLong(8, ~s ^ MAGIC);
                out.write(sector.array());
            }
        }
    }

    /** FNV-1a (32-bit) of the first {@code bytes} of {@code image}: what the guest prints as hash=. */
    static int fnv1a(Path image, long bytes) throws IOException {
        int h = 0x811c9dc5;
        byte[] all = Files.readAllBytes(image);
        for (int i = 0; i < bytes; i++) h = (h ^ (all[i] & 0xff)) * 0x01000193;
        return h;
    }
}
