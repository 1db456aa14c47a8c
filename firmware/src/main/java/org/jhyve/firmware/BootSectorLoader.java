package org.jhyve.firmware;

import java.nio.file.Path;
import java.util.List;
import org.jhyve.boot.BootState;
import org.jhyve.hv.Registers;
import org.jhyve.memory.GuestMemory;

/** Starts a boot sector as a BIOS would: at 0000:7c00 in real mode, DL = 0x80 (booted from the first hard disk). */
final class BootSectorLoader {
    /** DL holds the BIOS drive number the sector was read from; 0x80 is the first hard disk. */
    static final long BOOT_DRIVE = 0x80;

    private BootSectorLoader() {}

    /** Copies the whole image to 0x7c00; its length was checked against the EBDA when it was recognised. */
    static BootState load(Path path, byte[] image, GuestMemory memory) {
        if (!memory.isValid(LowMemoryMap.BOOT_SECTOR, image.length)) {
            throw BootErrors.about(path, String.format("guest RAM does not hold 0x%x bytes at 0x%x", image.length, LowMemoryMap.BOOT_SECTOR));
        }
        memory.write(LowMemoryMap.BOOT_SECTOR, image);
        Registers registers = new Registers(0, 0, 0, BOOT_DRIVE, 0, 0, LowMemoryMap.REAL_MODE_STACK_TOP, 0,
                0, 0, 0, 0, 0, 0, 0, 0, LowMemoryMap.BOOT_SECTOR, Registers.RFLAGS_RESERVED);
        return new BootState(registers, RealModeSetup.specialRegisters(0), List.of(),
                String.format("boot sector %s (%d bytes) at 0000:7c00, real mode", path.getFileName(), image.length));
    }
}
