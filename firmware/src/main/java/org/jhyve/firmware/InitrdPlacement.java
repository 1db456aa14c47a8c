package org.jhyve.firmware;

import java.nio.file.Path;
import org.jhyve.memory.GuestMemory;

/** Where an initrd goes: page-aligned, as high as possible in low RAM, above the kernel and below {@code limit}. */
final class InitrdPlacement {
    private static final long PAGE = 4096;

    private InitrdPlacement() {}

    static long place(Path kernel, GuestMemory memory, long size, long kernelEnd, long limit) {
        long top = Math.min(limit, E820Map.lowRamEnd(memory));
        long at = (top - size) & -PAGE;
        if (size <= 0 || size > top || at < kernelEnd || !memory.isValid(at, size)) {
            throw BootErrors.about(kernel, String.format("the initrd (%d bytes) does not fit between the kernel's end at 0x%x and 0x%x: "
                    + "give the guest more memory", size, kernelEnd, top));
        }
        return at;
    }
}
