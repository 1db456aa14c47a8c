package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jhyve.boot.BootState;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The programs the guests module builds are what the loaders expect: the two modules must agree. */
class GuestProgramsTest {
    @TempDir Path dir;

    private Path extract(String name) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/guests/" + name)) {
            assertThat(in).as("classpath resource /guests/%s", name).isNotNull();
            Path out = dir.resolve(name);
            Files.copy(in, out);
            return out;
        }
    }

    @Test
    void theBootSectorsAreOneSectorEach() throws IOException {
        for (String name : new String[] {"hello-real.bin", "exit-loop.bin"}) {
            assertThat(ImageFormat.detect(extract(name))).as(name).isEqualTo(new ImageFormat.BootSector(512));
        }
    }

    @Test
    void helloLongIsAnElf64ProgramLoadedAt1MiB() throws IOException {
        Path path = extract("hello-long.elf");
        byte[] image = Files.readAllBytes(path);
        ImageFormat format = ImageFormat.detect(path);
        assertThat(format).isInstanceOf(ImageFormat.Elf64Program.class);
        ElfFile elf = ((ImageFormat.Elf64Program) format).elf();
        assertThat(elf.entry()).isEqualTo(0x100000);

        GuestMemory memory = SegmentGuestMemory.onHeap(16L << 20);
        BootState state = KexecLoader.of(path).load(memory, 1);
        assertThat(state.registers().rip()).isEqualTo(0x100000);
        assertThat(state.specialRegisters().longMode()).isTrue();
        for (ElfFile.ProgramHeader ph : elf.programHeaders()) {
            if (!ph.isLoad()) continue;
            byte[] expected = java.util.Arrays.copyOfRange(image, (int) ph.offset(), (int) (ph.offset() + ph.fileSize()));
            assertThat(memory.readBytes(ph.paddr(), expected.length)).isEqualTo(expected);
        }
    }
}
