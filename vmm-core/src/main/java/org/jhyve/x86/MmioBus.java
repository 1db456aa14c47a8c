package org.jhyve.x86;

/**
 * The devices behind guest-physical addresses that are not RAM, as {@link MmioInstructionEmulator} reaches
 * them: one access of 1, 2, 4 or 8 bytes, little-endian, at a guest-physical address. The lead's adapter to
 * {@code org.jhyve.bus.Bus} decides what an address nobody claims does (reads of all-ones, ignored writes).
 *
 * <p>Called only on the vCPU thread that runs the emulator, between two runs of that vCPU.
 */
public interface MmioBus {
    /** The value read, in the low {@code size} bytes (bits above them are ignored). */
    long read(long gpa, int size);

    /** Writes the low {@code size} bytes of {@code value}. */
    void write(long gpa, int size, long value);
}
