package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BenchDiskPattern makes the image scripts/bench/disk-pattern.c makes: the hash that program prints, the words of a sector. */
class BenchDiskPatternTest {
    @TempDir
    Path dir;

    @Test
    void eightMibHaveTheHashDiskPatternPrints() throws Exception {
        Path image = dir.resolve("disk.img");
        BenchDiskPattern.write(image, 8 << 20);
        assertThat(Files.size(image)).isEqualTo(8 << 20);
        // gcc -O2 -o dp scripts/bench/disk-pattern.c && ./dp disk.img 8388608
        assertThat(BenchDiskPattern.fnv1a(image, 8 << 20)).isEqualTo(0x7046f5c5);
        ByteBuffer sector = ByteBuffer.wrap(Files.readAllBytes(image), 3 * 512, 512).slice().order(ByteOrder.LITTLE_ENDIAN);
        assertThat(sector.getLong(0)).isEqualTo(3);
        assertThat(sector.getLong(8)).isEqualTo(~3L ^ 0x6a68797665626c6bL);
    }
}
