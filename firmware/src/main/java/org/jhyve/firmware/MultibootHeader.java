package org.jhyve.firmware;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A Multiboot 1 header (Multiboot Specification 0.6.96, section 3.1): magic 0x1BADB002 on a 4-byte boundary
 * within the first 8 KiB of the image, then flags and a checksum that makes the three words sum to zero.
 * With flag bit 16 the header also gives the load addresses (the "a.out kludge"), which then take precedence
 * over any ELF program headers.
 *
 * @param offset where the header starts in the file
 * @param flags the header's flags word
 * @param addresses the a.out-kludge fields, present exactly when flag bit 16 is set
 */
public record MultibootHeader(int offset, int flags, Optional<Addresses> addresses) {
    public static final int MAGIC = 0x1BADB002;
    /** What the loader leaves in EAX for the kernel. */
    public static final int BOOTLOADER_MAGIC = 0x2BADB002;
    /** Only the first 8 KiB of an image are searched, as the specification says. */
    static final int SEARCH_LIMIT = 8192;
    /** Bit 16: the header carries the load addresses. */
    static final int FLAG_ADDRESSES = 1 << 16;
    /**
     * Bits 0 (page-align modules) and 1 (memory information) are honoured; bits 2–15 ask for things a loader
     * must provide or refuse (bit 2: a video mode), and jhyve provides none of them.
     */
    static final int REQUIRED_UNSUPPORTED = 0xfffc;

    /** The a.out-kludge fields: physical addresses; a zero {@code loadEnd}/{@code bssEnd} means "to the file's end"/"no bss". */
    public record Addresses(long headerAddress, long loadAddress, long loadEnd, long bssEnd, long entry) {}

    /**
     * The first valid header in {@code image}, if any. A magic word whose checksum does not match is not a
     * header (the search goes on), as GRUB treats it.
     */
    static Optional<MultibootHeader> find(byte[] image) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int limit = Math.min(image.length, SEARCH_LIMIT) - 12;
        for (int at = 0; at <= limit; at += 4) {
            if (b.getInt(at) != MAGIC) continue;
            int flags = b.getInt(at + 4);
            if (MAGIC + flags + b.getInt(at + 8) != 0) continue;
            Optional<Addresses> addresses = Optional.empty();
            if ((flags & FLAG_ADDRESSES) != 0 && at + 32 <= image.length) {
                addresses = Optional.of(new Addresses(u32(b, at + 12), u32(b, at + 16), u32(b, at + 20), u32(b, at + 24), u32(b, at + 28)));
            }
            return Optional.of(new MultibootHeader(at, flags, addresses));
        }
        return Optional.empty();
    }

    /** Refuses a header whose flags ask for what jhyve cannot give, or whose bit 16 fields are cut off by the file's end. */
    void check(Path path) {
        int unsupported = flags & REQUIRED_UNSUPPORTED;
        if (unsupported != 0) {
            throw BootErrors.about(path, String.format("the Multiboot header (flags 0x%x) requires features jhyve does not provide (flag bits 0x%x: a video mode or others)",
                    flags, unsupported));
        }
        if ((flags & FLAG_ADDRESSES) != 0 && addresses.isEmpty()) {
            throw BootErrors.about(path, "truncated: the Multiboot header's address fields go past the end of the file");
        }
    }

    private static long u32(ByteBuffer b, int at) {
        return Integer.toUnsignedLong(b.getInt(at));
    }
}
