package org.jhyve.x86;

/**
 * Thrown inside the MMIO emulation when the instruction would raise a CPU exception; caught by
 * {@link MmioInstructionEmulator} and turned into {@link MmioResult.Fault}. Never leaves the package.
 */
final class GuestExceptionSignal extends Exception {
    private final int vector;
    private final int errorCode;
    private final long pageFaultAddress;

    GuestExceptionSignal(int vector, int errorCode, long pageFaultAddress, String why) {
        super(why, null, false, false);
        this.vector = vector;
        this.errorCode = errorCode;
        this.pageFaultAddress = pageFaultAddress;
    }

    MmioResult.Fault toFault() {
        return new MmioResult.Fault(vector, errorCode, pageFaultAddress);
    }
}
