package org.jhyve.x86;

import org.jhyve.hv.Registers;

/** What {@link MmioInstructionEmulator#emulate} did with the instruction that touched MMIO. */
public sealed interface MmioResult {
    /**
     * The instruction (or, for a REP string instruction, one iteration of it) was carried out against the bus
     * and RAM: the vCPU must get {@code registers} (RIP past the instruction, or still on it while a REP
     * count remains) before it runs again.
     */
    record Completed(Registers registers) implements MmioResult {}

    /**
     * A CPU would raise this exception instead: nothing was written to the bus, RAM or the registers, and RIP
     * stays on the instruction. Inject it with {@code vcpu.injectException(vector, errorCode)}; for a page fault
     * ({@code vector == 14}) first set CR2 to {@code pageFaultAddress}.
     *
     * @param errorCode the error code, or -1 when the exception has none (the convention of Vcpu.injectException)
     * @param pageFaultAddress the linear address that faulted, for #PF; 0 otherwise
     */
    record Fault(int vector, int errorCode, long pageFaultAddress) implements MmioResult {
        public static final int VECTOR_UD = 6;
        public static final int VECTOR_SS = 12;
        public static final int VECTOR_GP = 13;
        public static final int VECTOR_PF = 14;
    }

    /** Not emulated; nothing was touched. {@code description} names the bytes, RIP, mode and reason. */
    record Unsupported(String description) implements MmioResult {}
}
