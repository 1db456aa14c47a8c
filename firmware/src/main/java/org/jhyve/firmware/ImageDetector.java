package org.jhyve.firmware;

import java.nio.file.Path;
import org.jhyve.boot.BootException;

/** The rules behind {@link ImageFormat#detect}. */
final class ImageDetector {
    /** The Linux boot protocol's setup header: "HdrS" at 0x202, the protocol version at 0x206. */
    private static final int HEADER_MAGIC_OFFSET = 0x202;
    private static final int PROTOCOL_VERSION_OFFSET = 0x206;
    private static final int SECTOR = 512;
    /** A boot sector loaded at 0x7c00 must end below the EBDA. */
    static final long BOOT_SECTOR_MAX_LENGTH = LowMemoryMap.EBDA - LowMemoryMap.BOOT_SECTOR;

    private ImageDetector() {}

    static ImageFormat detect(Path path, byte[] image) {
        if (ElfFile.hasElfMagic(image)) return detectElf(path, image);
        if (hasBzImageHeader(image)) {
            return new ImageFormat.LinuxBzImage((image[PROTOCOL_VERSION_OFFSET] & 0xff) | (image[PROTOCOL_VERSION_OFFSET + 1] & 0xff) << 8);
        }
        var multiboot = MultibootHeader.find(image);
        if (multiboot.isPresent() && multiboot.get().addresses().isPresent()) {
            return new ImageFormat.Multiboot(multiboot.get(), java.util.Optional.empty());
        }
        if (hasBootSignature(image)) {
            if (image.length > BOOT_SECTOR_MAX_LENGTH) {
                throw BootErrors.about(path, String.format("boot sector image of %d bytes is too big: at most %d bytes fit between 0x%x and the EBDA at 0x%x",
                        image.length, BOOT_SECTOR_MAX_LENGTH, LowMemoryMap.BOOT_SECTOR, LowMemoryMap.EBDA));
            }
            return new ImageFormat.BootSector(image.length);
        }
        if (multiboot.isPresent()) {
            throw BootErrors.about(path, "a Multiboot header without load addresses (flag bit 16) in a file that is not ELF: nothing says where it goes");
        }
        throw new BootException(path + ": not a kernel or program jhyve can boot "
                + "(expected a bzImage, an ELF vmlinux, an ELF64 program, a Multiboot kernel or a boot sector)");
    }

    private static ImageFormat detectElf(Path path, byte[] image) {
        if (Elf32Reader.isElf32(image)) return detectMultibootElf(path, image);
        ElfFile elf = ElfFile.parse(path, image);
        if (elf.pvhEntry().isPresent()) return new ImageFormat.ElfPvhKernel(elf, elf.pvhEntry().getAsLong());
        return switch (elf.type()) {
            case ElfFile.ET_EXEC -> new ImageFormat.Elf64Program(elf);
            case ElfFile.ET_DYN -> throw BootErrors.about(path, "position-independent ELF (ET_DYN) is not supported: "
                    + "link the program at a fixed address (ld -no-pie -Ttext=0x100000)");
            default -> throw BootErrors.about(path, "ELF file of type " + elf.type() + " is not an executable (ET_EXEC)");
        };
    }

    /** A 32-bit ELF is bootable only as a Multiboot kernel; with flag bit 16 its header's addresses rule, not the ELF's. */
    private static ImageFormat detectMultibootElf(Path path, byte[] image) {
        MultibootHeader header = MultibootHeader.find(image).orElseThrow(() -> BootErrors.about(path,
                "32-bit ELF file without a Multiboot header: jhyve boots x86-64 ELF64 images and Multiboot kernels"));
        if (header.addresses().isPresent()) return new ImageFormat.Multiboot(header, java.util.Optional.empty());
        return new ImageFormat.Multiboot(header, java.util.Optional.of(Elf32Reader.parse(path, image)));
    }

    private static boolean hasBzImageHeader(byte[] image) {
        return image.length >= PROTOCOL_VERSION_OFFSET + 2
                && image[HEADER_MAGIC_OFFSET] == 'H' && image[HEADER_MAGIC_OFFSET + 1] == 'd'
                && image[HEADER_MAGIC_OFFSET + 2] == 'r' && image[HEADER_MAGIC_OFFSET + 3] == 'S';
    }

    private static boolean hasBootSignature(byte[] image) {
        return image.length >= SECTOR && (image[510] & 0xff) == 0x55 && (image[511] & 0xff) == 0xaa;
    }
}
