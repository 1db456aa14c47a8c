package org.jhyve.firmware;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jhyve.boot.BootState;
import org.jhyve.hv.Registers;
import org.jhyve.memory.GuestMemory;

/**
 * Boots a Linux bzImage through its 64-bit entry, per the x86 boot protocol (Documentation/x86/boot.rst,
 * 2.06 and later): the protected-mode kernel at its preferred address (or, if relocatable, the first
 * aligned address above 16 MiB where it fits with its init_size), a zero page with the setup header, the
 * command line, the initrd and the e820 map, then long mode with identity paging and RSI = zero page.
 */
final class BzImageLoader {
    static final int MIN_VERSION = 0x0206;
    // Setup header offsets (boot.rst, "The Real-Mode Kernel Header").
    private static final int SETUP_SECTS = 0x1f1, SYSSIZE = 0x1f4, BOOT_FLAG = 0x1fe, JUMP = 0x200, VERSION = 0x206;
    private static final int TYPE_OF_LOADER = 0x210, LOADFLAGS = 0x211, RAMDISK_IMAGE = 0x218, RAMDISK_SIZE = 0x21c;
    private static final int HEAP_END_PTR = 0x224, CMD_LINE_PTR = 0x228, INITRD_ADDR_MAX = 0x22c, KERNEL_ALIGNMENT = 0x230;
    private static final int RELOCATABLE = 0x234, XLOADFLAGS = 0x236, CMDLINE_SIZE = 0x238, PAYLOAD_OFFSET = 0x248, PAYLOAD_LENGTH = 0x24c, PREF_ADDRESS = 0x258, INIT_SIZE = 0x260;
    // Zero page (struct boot_params) fields outside the header.
    private static final int ACPI_RSDP_ADDR = 0x070, EXT_RAMDISK_IMAGE = 0x0c0, EXT_RAMDISK_SIZE = 0x0c4, EXT_CMD_LINE_PTR = 0x0c8;
    private static final int E820_ENTRIES = 0x1e8, E820_TABLE = 0x2d0, E820_MAX = 128;
    private static final int LOADED_HIGH = 0x01, CAN_USE_HEAP = 0x80, XLF_KERNEL_64 = 0x01;
    private static final long SIXTEEN_MIB = 16L << 20;

    private BzImageLoader() {}

    static BootState load(Path path, byte[] image, GuestMemory memory, Optional<byte[]> initrd, String cmdline, long rsdp) {
        // Everything that can be refused is checked before the first byte is written.
        if (image.length < 0x268) throw BootErrors.about(path, "bzImage is truncated: its setup header is incomplete");
        ByteBuffer h = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int version = h.getShort(VERSION) & 0xffff;
        if ((h.getShort(BOOT_FLAG) & 0xffff) != 0xaa55) throw BootErrors.about(path, "bzImage has no 0xAA55 boot flag");
        if (version >> 8 != 2) {
            throw BootErrors.about(path, String.format("boot protocol %d.%02d is not a Linux x86 boot protocol (2.xx)", version >> 8, version & 0xff));
        }
        if (version < MIN_VERSION) {
            throw BootErrors.about(path, String.format("boot protocol %d.%02d is too old: jhyve needs 2.06 or later",
                    version >> 8, version & 0xff));
        }
        if ((image[LOADFLAGS] & LOADED_HIGH) == 0) throw BootErrors.about(path, "bzImage does not load high (a zImage?)");
        if ((h.getShort(XLOADFLAGS) & XLF_KERNEL_64) == 0) throw BootErrors.about(path, "bzImage has no 64-bit entry point");
        int setupSects = image[SETUP_SECTS] & 0xff;
        if (setupSects == 0) setupSects = 4;
        int kernelOffset = (setupSects + 1) * 512;
        if (kernelOffset >= image.length) {
            throw BootErrors.about(path, String.format("bzImage is truncated: %d bytes, its setup alone takes %d", image.length, kernelOffset));
        }
        int kernelSize = image.length - kernelOffset;
        checkProtectedModePart(path, h, version, kernelSize);
        long initSize = Math.max(h.getInt(INIT_SIZE) & 0xffffffffL, kernelSize);
        long lowEnd = E820Map.lowRamEnd(memory);
        long load = placeKernel(path, h, initSize, lowEnd);

        long cmdlineMax = Math.min(h.getInt(CMDLINE_SIZE) & 0xffffffffL, LowMemoryMap.COMMAND_LINE_MAX - 1);
        byte[] command = KernelCommandLine.encode(path, cmdline, cmdlineMax);
        long initrdAt = 0;
        if (initrd.isPresent()) {
            long max = Math.min(h.getInt(INITRD_ADDR_MAX) & 0xffffffffL, lowEnd - 1) + 1;
            initrdAt = InitrdPlacement.place(path, memory, initrd.get().length, load + initSize, max);
        }
        List<E820Map.Entry> map = E820Map.of(memory);
        if (map.size() > E820_MAX) throw BootErrors.about(path, "too many memory ranges for the e820 table");

        memory.write(load, image, kernelOffset, kernelSize);
        long zp = LowMemoryMap.ZERO_PAGE;
        memory.fill(zp, 4096, (byte) 0);
        int headerEnd = JUMP + 2 + (image[JUMP + 1] & 0xff); // the jump at 0x200 skips exactly the header
        memory.write(zp + SETUP_SECTS, image, SETUP_SECTS, Math.min(headerEnd, 4096) - SETUP_SECTS);
        memory.writeByte(zp + TYPE_OF_LOADER, (byte) 0xff);
        memory.writeByte(zp + LOADFLAGS, (byte) (image[LOADFLAGS] | CAN_USE_HEAP));
        memory.writeShort(zp + HEAP_END_PTR, (short) 0xfe00);
        memory.fill(LowMemoryMap.COMMAND_LINE, LowMemoryMap.COMMAND_LINE_MAX, (byte) 0);
        memory.write(LowMemoryMap.COMMAND_LINE, command);
        memory.writeInt(zp + CMD_LINE_PTR, (int) LowMemoryMap.COMMAND_LINE);
        memory.writeInt(zp + EXT_CMD_LINE_PTR, 0);
        if (initrd.isPresent()) {
            memory.write(initrdAt, initrd.get());
            memory.writeInt(zp + RAMDISK_IMAGE, (int) initrdAt);
            memory.writeInt(zp + RAMDISK_SIZE, initrd.get().length);
            memory.writeInt(zp + EXT_RAMDISK_IMAGE, (int) (initrdAt >>> 32));
            memory.writeInt(zp + EXT_RAMDISK_SIZE, 0);
        }
        if (rsdp != 0 && version >= 0x020e) memory.writeLong(zp + ACPI_RSDP_ADDR, rsdp);
        memory.writeByte(zp + E820_ENTRIES, (byte) map.size());
        for (int i = 0; i < map.size(); i++) {
            long at = zp + E820_TABLE + 20L * i;
            memory.writeLong(at, map.get(i).address());
            memory.writeLong(at + 8, map.get(i).size());
            memory.writeInt(at + 16, map.get(i).type());
        }

        var sregs = LongModeSetup.install(memory);
        Registers regs = Registers.initial(load + 0x200).withRsi(zp);
        return new BootState(regs, sregs, List.of(), String.format("Linux bzImage %s (boot protocol %d.%02d) at 0x%x, 64-bit entry",
                path.getFileName(), version >> 8, version & 0xff, load));
    }

    /**
     * The protected-mode part (after the setup sectors) must hold what the header says: syssize 16-byte
     * paragraphs (the build pads the file to exactly that), and from 2.08 the compressed payload. A file cut
     * short would otherwise be loaded and started, and fail inside the guest (a triple fault, at best).
     */
    private static void checkProtectedModePart(Path path, ByteBuffer h, int version, int kernelSize) {
        long sysSize = (h.getInt(SYSSIZE) & 0xffffffffL) * 16;
        if (sysSize > kernelSize) {
            throw BootErrors.about(path, String.format("bzImage is truncated: its protected-mode kernel is %d bytes, its header (syssize) says %d",
                    kernelSize, sysSize));
        }
        if (version >= 0x0208) {
            long payloadEnd = (h.getInt(PAYLOAD_OFFSET) & 0xffffffffL) + (h.getInt(PAYLOAD_LENGTH) & 0xffffffffL);
            if (payloadEnd > kernelSize) {
                throw BootErrors.about(path, String.format("bzImage is truncated: its compressed kernel ends at byte %d of the protected-mode part, which has %d",
                        payloadEnd, kernelSize));
            }
        }
    }

    /** pref_address when it fits; else, for a relocatable kernel, the first aligned address from 16 MiB. */
    private static long placeKernel(Path path, ByteBuffer h, long initSize, long lowEnd) {
        long pref = h.getLong(PREF_ADDRESS);
        if (pref >= LowMemoryMap.HIGH_MEMORY && pref <= lowEnd - initSize) return pref;
        if (h.get(RELOCATABLE) == 0 && pref < LowMemoryMap.HIGH_MEMORY) {
            throw BootErrors.about(path, String.format("this kernel must load at 0x%x (pref_address), below 1 MiB where no kernel goes", pref));
        }
        if (h.get(RELOCATABLE) == 0) {
            throw BootErrors.about(path, String.format("this kernel must load at 0x%x and needs 0x%x bytes there: give the guest more memory",
                    pref, initSize));
        }
        long alignment = h.getInt(KERNEL_ALIGNMENT) & 0xffffffffL;
        if (Long.bitCount(alignment) != 1) {
            throw BootErrors.about(path, String.format("kernel_alignment 0x%x is not a power of two: cannot place a relocatable kernel", alignment));
        }
        long align = Math.max(alignment, 4096);
        long at = (SIXTEEN_MIB + align - 1) / align * align;
        if (at > lowEnd - initSize) throw BootErrors.about(path, String.format("the kernel needs 0x%x bytes above 16 MiB: give the guest more memory", initSize));
        return at;
    }
}
