package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jhyve.boot.BootException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Formats are recognised from the bytes of a file; names are chosen to mislead and must not matter. */
class ImageFormatTest {
    private static final String NOT_BOOTABLE = ": not a kernel or program jhyve can boot "
            + "(expected a bzImage, an ELF vmlinux, an ELF64 program, a Multiboot kernel or a boot sector)";

    @TempDir Path dir;

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    static byte[] bootSector(int length) {
        byte[] image = TestElf.bytes(length, 3);
        image[510] = 0x55;
        image[511] = (byte) 0xaa;
        return image;
    }

    static byte[] bzImage(int protocolVersion) {
        byte[] image = bootSector(4096); // a bzImage's setup sector carries the boot signature too
        image[0x202] = 'H';
        image[0x203] = 'd';
        image[0x204] = 'r';
        image[0x205] = 'S';
        image[0x206] = (byte) protocolVersion;
        image[0x207] = (byte) (protocolVersion >>> 8);
        return image;
    }

    @Test
    void aBootSignatureMakesABootSector() throws IOException {
        assertThat(ImageFormat.detect(file("vmlinux", bootSector(512)))).isEqualTo(new ImageFormat.BootSector(512));
    }

    @Test
    void aBootSectorImageMayBeLongerThanOneSector() throws IOException {
        assertThat(ImageFormat.detect(file("a.elf", bootSector(3000)))).isEqualTo(new ImageFormat.BootSector(3000));
    }

    @Test
    void aBootSectorImageMayReachTheEbdaButNotPassIt() throws IOException {
        int max = 0x9fc00 - 0x7c00;
        assertThat(ImageFormat.detect(file("max.bin", bootSector(max)))).isEqualTo(new ImageFormat.BootSector(max));
        Path tooBig = file("big.bin", bootSector(max + 1));
        assertThatThrownBy(() -> ImageFormat.detect(tooBig))
                .isInstanceOf(BootException.class)
                .hasMessage(tooBig + ": boot sector image of 622593 bytes is too big: at most 622592 bytes fit between 0x7c00 and the EBDA at 0x9fc00");
    }

    @Test
    void bytesWithoutAnySignatureAreRefusedWithTheListOfFormats() throws IOException {
        Path zeros = file("boot.bin", new byte[512]);
        assertThatThrownBy(() -> ImageFormat.detect(zeros)).isInstanceOf(BootException.class).hasMessage(zeros + NOT_BOOTABLE);
        Path text = file("bzImage", "#!/bin/sh\necho hello\n".getBytes());
        assertThatThrownBy(() -> ImageFormat.detect(text)).hasMessage(text + NOT_BOOTABLE);
        Path empty = file("empty", new byte[0]);
        assertThatThrownBy(() -> ImageFormat.detect(empty)).hasMessage(empty + NOT_BOOTABLE);
    }

    @Test
    void theSignatureMustBeAtBytes510And511() throws IOException {
        byte[] shifted = new byte[512];
        shifted[509] = 0x55;
        shifted[510] = (byte) 0xaa;
        Path path = file("shifted.bin", shifted);
        assertThatThrownBy(() -> ImageFormat.detect(path)).hasMessage(path + NOT_BOOTABLE);
    }

    @Test
    void hdrSAt0x202MakesABzImageEvenWithABootSignature() throws IOException {
        ImageFormat format = ImageFormat.detect(file("boot.bin", bzImage(0x020f)));
        assertThat(format).isEqualTo(new ImageFormat.LinuxBzImage(0x020f));
        assertThat(format.describe()).isEqualTo("Linux bzImage (boot protocol 2.15)");
    }

    @Test
    void anX8664ExecutableWithoutPvhNoteIsAnElf64Program() throws IOException {
        byte[] image = TestElf.executable(0x100000).load(0x100000, TestElf.bytes(64, 1), 64).build();
        ImageFormat format = ImageFormat.detect(file("kernel", image));
        assertThat(format).isInstanceOf(ImageFormat.Elf64Program.class);
        ElfFile elf = ((ImageFormat.Elf64Program) format).elf();
        assertThat(elf.entry()).isEqualTo(0x100000);
        assertThat(elf.programHeaders()).singleElement()
                .isEqualTo(new ElfFile.ProgramHeader(ElfFile.PT_LOAD, 7, 120, 0x100000, 0x100000, 64, 64, 0x1000));
    }

    @Test
    void theXenPhys32EntryNoteMakesAPvhKernelWithItsEntry() throws IOException {
        byte[] fourByte = TestElf.executable(0xffffffff81000000L).load(0x1000000, TestElf.bytes(32, 2), 32)
                .notes(4, TestElf.pvhNote(0x1000400, 4)).build();
        assertThat(ImageFormat.detect(file("a.bin", fourByte)))
                .isInstanceOfSatisfying(ImageFormat.ElfPvhKernel.class, k -> assertThat(k.pvhEntry()).isEqualTo(0x1000400));
        byte[] eightByte = TestElf.executable(0).notes(4, TestElf.pvhNote(0x2000000, 8)).build();
        assertThat(ImageFormat.detect(file("b.bin", eightByte)))
                .isInstanceOfSatisfying(ImageFormat.ElfPvhKernel.class, k -> assertThat(k.pvhEntry()).isEqualTo(0x2000000));
    }

    @Test
    void otherNotesBeforeThePvhNoteAreSkippedWithTheSegmentsPadding() throws IOException {
        // A 12-byte descriptor pads to 12 in a 4-aligned segment but to 16 in an 8-aligned one: a walker
        // using the wrong padding would land in the middle of the Xen note and miss it.
        byte[] gnu8 = TestElf.note("GNU", 5, TestElf.bytes(12, 4), 8);
        byte[] xen8 = TestElf.note("Xen", ElfFile.XEN_ELFNOTE_PHYS32_ENTRY, new byte[] {0, 0, 0, 1, 0, 0, 0, 0}, 8);
        byte[] aligned8 = TestElf.executable(0).notes(8, gnu8, xen8).build();
        assertThat(ImageFormat.detect(file("a", aligned8))).isEqualTo(
                new ImageFormat.ElfPvhKernel(ElfFile.parse(dir.resolve("a"), aligned8), 0x1000000));

        byte[] otherXen = TestElf.note("Xen", 17, new byte[4], 4);
        byte[] gnu4 = TestElf.note("GNU", 5, TestElf.bytes(12, 4), 4);
        byte[] aligned4 = TestElf.executable(0).notes(4, otherXen, gnu4, TestElf.pvhNote(0x1234, 4)).build();
        assertThat(ImageFormat.detect(file("b", aligned4)))
                .isInstanceOfSatisfying(ImageFormat.ElfPvhKernel.class, k -> assertThat(k.pvhEntry()).isEqualTo(0x1234));
    }

    @Test
    void xenNotesOfOtherTypesDoNotMakeAPvhKernel() throws IOException {
        byte[] image = TestElf.executable(0x100000).load(0x100000, new byte[16], 16)
                .notes(4, TestElf.note("Xen", 17, new byte[4], 4), TestElf.note("Xe", 18, new byte[4], 4)).build();
        assertThat(ImageFormat.detect(file("prog", image))).isInstanceOf(ImageFormat.Elf64Program.class);
    }

    @Test
    void elfFilesJhyveCannotRunAreRefusedSayingWhy() throws IOException {
        Path elf32 = file("a", TestElf.executable(0).elfClass(1).build());
        assertThatThrownBy(() -> ImageFormat.detect(elf32)).isInstanceOf(BootException.class)
                .hasMessage(elf32 + ": 32-bit ELF file without a Multiboot header: jhyve boots x86-64 ELF64 images and Multiboot kernels");
        Path arm = file("b", TestElf.executable(0).machine(183).build());
        assertThatThrownBy(() -> ImageFormat.detect(arm)).hasMessage(arm + ": ELF file for machine 183, not x86-64 (62)");
        Path pie = file("c", TestElf.executable(0).type(ElfFile.ET_DYN).build());
        assertThatThrownBy(() -> ImageFormat.detect(pie)).hasMessageStartingWith(pie + ": position-independent ELF (ET_DYN) is not supported");
        Path object = file("d", TestElf.executable(0).type(1).build());
        assertThatThrownBy(() -> ImageFormat.detect(object)).hasMessage(object + ": ELF file of type 1 is not an executable (ET_EXEC)");
    }

    @Test
    void truncatedOrInconsistentElfHeadersAreOneLineErrors() throws IOException {
        byte[] full = TestElf.executable(0x100000).load(0x100000, TestElf.bytes(100, 5), 100).build();

        Path header = file("header", java.util.Arrays.copyOf(full, 40));
        assertThatThrownBy(() -> ImageFormat.detect(header)).hasMessage(header + ": truncated ELF header (40 bytes)");

        Path headers = file("headers", java.util.Arrays.copyOf(full, 100));
        assertThatThrownBy(() -> ImageFormat.detect(headers))
                .hasMessage(headers + ": truncated: the ELF program headers (1 at offset 0x40) go past the end of the file (100 bytes)");

        Path segment = file("segment", java.util.Arrays.copyOf(full, full.length - 1));
        assertThatThrownBy(() -> ImageFormat.detect(segment))
                .hasMessage(segment + ": truncated: ELF segment 0 (offset 0x78, 0x64 bytes) goes past the end of the file (219 bytes)");

        Path hugeOffset = file("offset", TestElf.patchProgramHeader(full.clone(), 0, 8, 0xffff_ffff_ffff_ff00L));
        assertThatThrownBy(() -> ImageFormat.detect(hugeOffset)).hasMessageContaining("goes past the end of the file");

        Path fileBiggerThanMemory = file("memsz", TestElf.patchProgramHeader(full.clone(), 0, 40, 99));
        assertThatThrownBy(() -> ImageFormat.detect(fileBiggerThanMemory))
                .hasMessage(fileBiggerThanMemory + ": ELF segment 0 has more bytes in the file (0x64) than in memory (0x63)");
    }

    @Test
    void aNoteRunningPastItsSegmentIsATruncatedNote() throws IOException {
        byte[] note = TestElf.pvhNote(0x1000, 4);
        java.nio.ByteBuffer.wrap(note).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(4, 64); // descsz beyond the segment
        Path path = file("note", TestElf.executable(0).notes(4, note).build());
        assertThatThrownBy(() -> ImageFormat.detect(path)).hasMessage(path + ": truncated ELF note at offset 0x78");
    }
}
