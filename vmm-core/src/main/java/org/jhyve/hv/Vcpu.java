package org.jhyve.hv;

import java.util.List;

/**
 * One virtual CPU. {@link #run()} and the register accessors are called only from the vCPU's own thread
 * (KVM requires it); {@link #kick()} may be called from any thread.
 */
public interface Vcpu extends AutoCloseable {
    int index();

    /** Runs the guest until the next exit that userspace must handle. */
    VmExit run();

    /**
     * Makes a {@link #run()} in progress (or the next one) return {@link VmExit.Interrupted} promptly.
     * Safe from any thread; used to stop or pause the VM.
     */
    void kick();

    Registers getRegisters();

    void setRegisters(Registers regs);

    SpecialRegisters getSpecialRegisters();

    void setSpecialRegisters(SpecialRegisters sregs);

    FpuState getFpu();

    void setFpu(FpuState fpu);

    /** Reads the given MSRs; an MSR the hypervisor refuses is left out of the result. */
    List<MsrEntry> getMsrs(List<Integer> indexes);

    /** Writes MSRs; throws {@link HypervisorException} naming the first one refused. */
    void setMsrs(List<MsrEntry> msrs);

    void setCpuid(List<CpuidEntry> entries);

    /**
     * Translates a guest linear (virtual) address through the vCPU's current paging mode; -1 if unmapped.
     */
    long translate(long linearAddress);

    /**
     * Queues exception {@code vector} for delivery on the next entry, with {@code errorCode} where the
     * vector has one (-1 for none). RIP is not changed: for a trap such as #BP set it past the
     * instruction first.
     */
    default void injectException(int vector, int errorCode) {
        throw new UnsupportedOperationException("this hypervisor cannot inject exceptions");
    }

    /**
     * Delivers {@code vector} (0-255) through the guest's IDT (its vector table in real mode) as the INT n instruction
     * would that the hypervisor could not emulate: the return address it pushes is RIP, so set RIP past the instruction
     * first. The INT n privilege check (the gate's DPL against CPL) is the caller's to make.
     */
    default void injectSoftwareInterrupt(int vector) {
        throw new UnsupportedOperationException("this hypervisor cannot inject interrupts");
    }

    /**
     * Sets what the hypervisor intercepts for a debugger from the next run on: single step, {@code int3}
     * (reported as a {@link VmExit.Debug} with exception 3 instead of a #BP in the guest) and debug-register
     * breakpoints. {@link GuestDebug#OFF} ends it. Called on the vCPU's own thread between runs.
     */
    default void setGuestDebug(GuestDebug debug) {
        throw new UnsupportedOperationException("this hypervisor has no guest debugging");
    }

    /**
     * True when the vCPU cannot run until something wakes it: halted (HLT) or waiting for a startup IPI.
     * Called on the vCPU's own thread between runs. Hypervisors that report halts as exits return false.
     */
    default boolean isParked() {
        return false;
    }

    /**
     * The interrupt-injection side of a vCPU whose VM was made with {@link InterruptPlatform#USERSPACE}; empty with an
     * in-kernel interrupt platform (where the hypervisor injects for itself).
     */
    default java.util.Optional<InterruptInjection> interruptInjection() {
        return java.util.Optional.empty();
    }

    @Override
    void close();
}
