package org.jhyve.x86;

/**
 * Thrown inside the MMIO emulation for what it does not handle; caught by {@link MmioInstructionEmulator} and
 * turned into {@link MmioResult.Unsupported}. Never leaves the package.
 */
final class UnsupportedMmioSignal extends Exception {
    UnsupportedMmioSignal(String why) {
        super(why, null, false, false);
    }
}
