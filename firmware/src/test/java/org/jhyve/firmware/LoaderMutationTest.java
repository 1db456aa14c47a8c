package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.jhyve.boot.BootException;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Valid images of every format with random bytes and header fields changed: each one either boots or is
 * a {@link BootException} (one line, naming the file), never another exception: no index out of bounds,
 * no guest-memory access outside RAM, no negative array size. A quick sweep, not the fuzz campaign.
 */
class LoaderMutationTest {
    private static final long MIB = 1L << 20;

    @TempDir Path dir;

    private static List<byte[]> seeds() {
        byte[] program = TestElf.executable(0x100010).load(0x100000, TestElf.bytes(0x200, 1), 0x2000)
                .load(0x300000, TestElf.bytes(0x40, 2), 0x1000).build();
        byte[] pvh = TestElf.executable(0x1000000).load(0x1000000, TestElf.bytes(0x100, 3), 0x4000)
                .notes(4, TestElf.pvhNote(0x1000010, 4)).build();
        byte[] bzImage = KexecLoaderTest.bzImage(0x020f, 4096, true);
        byte[] bootSector = ImageFormatTest.bootSector(1024);
        return List.of(program, pvh, bzImage, bootSector);
    }

    /** Header fields worth aiming at: ELF offsets and sizes, program-header fields, the bzImage setup header. */
    private static final int[] FIELDS = {0x10, 0x18, 0x20, 0x36, 0x38, 64, 64 + 8, 64 + 16, 64 + 24, 64 + 32, 64 + 40, 120 + 8, 120 + 24,
            120 + 32, 120 + 40, 0x1f1, 0x1f4, 0x201, 0x206, 0x211, 0x22c, 0x230, 0x234, 0x236, 0x238, 0x248, 0x24c, 0x258, 0x260};
    private static final long[] VALUES = {0, 1, -1, 0x7fffffffL, 0x80000000L, 0xffffffffL, Long.MAX_VALUE, Long.MIN_VALUE, 0x1000, 0x100000,
            0x1000000, 0xfff000, 0x9fc00, 0xe0000, 0x500};

    private static byte[] mutate(byte[] seed, Random random) {
        byte[] image = seed.clone();
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int changes = 1 + random.nextInt(4);
        for (int i = 0; i < changes; i++) {
            switch (random.nextInt(4)) {
                case 0 -> {
                    if (image.length > 0) image[random.nextInt(image.length)] = (byte) random.nextInt(256);
                }
                case 1 -> {
                    int at = FIELDS[random.nextInt(FIELDS.length)];
                    if (at + 8 <= image.length) b.putLong(at, VALUES[random.nextInt(VALUES.length)]);
                }
                case 2 -> {
                    int at = FIELDS[random.nextInt(FIELDS.length)];
                    if (at + 4 <= image.length) b.putInt(at, (int) VALUES[random.nextInt(VALUES.length)]);
                }
                default -> image = Arrays.copyOf(image, random.nextInt(image.length + 1)); // cut short
            }
            b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        }
        return image;
    }

    @Test
    void everyMutantBootsOrIsOneBootException() throws IOException {
        Path name = dir.resolve("mutant");
        Path initrd = Files.write(dir.resolve("initrd"), TestElf.bytes(4096, 9));
        GuestMemory memory = SegmentGuestMemory.onHeap(64 * MIB);
        long seed = System.nanoTime();
        Random random = new Random(seed);
        List<byte[]> seeds = seeds();
        int booted = 0;
        int refused = 0;
        for (int i = 0; i < 4000; i++) {
            byte[] image = mutate(seeds.get(random.nextInt(seeds.size())), random);
            boolean linuxArguments = random.nextBoolean();
            KexecLoader loader = new KexecLoader(name, linuxArguments ? Optional.of(initrd) : Optional.empty(),
                    linuxArguments ? "console=ttyS0" : "", random.nextBoolean(), org.jhyve.cpu.CpuTemplate.HOST);
            try {
                loader.load(image, memory, 1 + random.nextInt(4));
                booted++;
            } catch (BootException e) {
                assertThat(e.getMessage()).as("seed %d", seed).startsWith(name + ": ").doesNotContain("\n");
                refused++;
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + ", mutant " + i + " (" + image.length + " bytes): " + e, e);
            }
        }
        assertThat(booted).as("some mutants still boot").isPositive();
        assertThat(refused).as("some are refused").isPositive();
    }
}
