package org.jhyve.firmware;

import java.nio.file.Path;

/**
 * What a guest image is, recognised from its bytes (never its name). See {@link #detect} for the rules.
 */
public sealed interface ImageFormat {

    /**
     * A boot sector: bytes 510–511 are 0x55 0xAA. A BIOS would load only the first 512 bytes; jhyve loads
     * the whole file at 0x7c00 (so a program may be longer than one sector) and starts it in real mode at
     * 0000:7c00 with DL = 0x80, the first hard disk.
     */
    record BootSector(int length) implements ImageFormat {
        @Override public String describe() { return "boot sector"; }
    }

    /** An x86-64 ELF64 executable without a PVH note: loaded at its physical addresses, entered in long mode. */
    record Elf64Program(ElfFile elf) implements ImageFormat {
        @Override public String describe() { return "ELF64 program"; }
    }

    /** A Linux bzImage ("HdrS" at 0x202); {@code protocolVersion} is the boot protocol, e.g. 0x020f. */
    record LinuxBzImage(int protocolVersion) implements ImageFormat {
        @Override public String describe() {
            return String.format("Linux bzImage (boot protocol %d.%02d)", protocolVersion >>> 8, protocolVersion & 0xff);
        }
    }

    /** An ELF kernel (an uncompressed vmlinux) with a Xen PVH entry note: it starts in 32-bit mode at {@code pvhEntry}. */
    record ElfPvhKernel(ElfFile elf, long pvhEntry) implements ImageFormat {
        @Override public String describe() { return String.format("ELF kernel with PVH entry 0x%x", pvhEntry); }
    }

    /**
     * A Multiboot 1 kernel ({@link MultibootHeader}): an i386 ELF32 loaded by its program headers ({@code elf}
     * present), or any file whose header gives the load addresses (flag bit 16; {@code elf} empty). It starts
     * in flat 32-bit protected mode with EAX = 0x2BADB002 and EBX = the Multiboot information structure.
     */
    record Multiboot(MultibootHeader header, java.util.Optional<ElfFile> elf) implements ImageFormat {
        @Override public String describe() {
            return elf.isPresent() ? "Multiboot ELF kernel" : "Multiboot kernel (load addresses from its header)";
        }
    }

    /** A few words for messages, e.g. "ELF64 program". */
    String describe();

    /**
     * Recognises {@code image}, the whole content of the file at {@code path} ({@code path} is only for
     * messages). In order: a 64-bit ELF file is a PVH kernel if it has the PVH note, else it must be an
     * x86-64 ELF64 executable; a 32-bit ELF file must carry a Multiboot header; "HdrS" at 0x202 is a bzImage
     * (checked before the boot-sector signature, which a bzImage also carries); then a Multiboot header with
     * load addresses (flag bit 16) in any other file; then the boot-sector signature.
     *
     * @throws org.jhyve.boot.BootException naming the file when it is none of these or is malformed
     */
    static ImageFormat detect(Path path, byte[] image) {
        return ImageDetector.detect(path, image);
    }

    /**
     * Reads the file at {@code path} and recognises it; unreadable files are a one-line BootException too,
     * and so are files that are not regular files or hold more than {@code maxBytes} (guest RAM, say).
     */
    static ImageFormat detect(Path path, long maxBytes) {
        return detect(path, ImageFiles.read(path, maxBytes));
    }

    /** {@link #detect(Path, long)} of a file of at most 2 GiB, the most jhyve reads into memory. */
    static ImageFormat detect(Path path) {
        return detect(path, ImageFiles.MAX_ARRAY);
    }
}
