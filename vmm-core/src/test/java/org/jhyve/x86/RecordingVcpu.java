package org.jhyve.x86;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.MsrEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;

/**
 * A vCPU that is only state: registers, special registers and FPU state in fields, a page table that maps
 * linear addresses below {@code identityLimit} to the same physical address (plus explicit remaps and holes),
 * and a record of queued exceptions.
 *
 * <p>Like KVM, setting the registers discards an exception queued before (KVM_SET_REGS clears
 * {@code exception.pending}), so a test sees an exception only if it was injected after the last
 * {@link #setRegisters}.
 */
final class RecordingVcpu implements Vcpu {
    record InjectedException(int vector, int errorCode) {}

    private static final long PAGE_MASK = ~0xFFFL;

    private Registers regs;
    private SpecialRegisters sregs;
    private FpuState fpu = FpuState.initial();
    private final long identityLimit;
    private final Map<Long, Long> remappedPages = new HashMap<>();
    private final Set<Long> unmappedPages = new HashSet<>();
    private final List<InjectedException> pending = new ArrayList<>();
    private final List<Integer> softwareInterrupts = new ArrayList<>();
    private int registerWrites;
    private int fpuWrites;

    RecordingVcpu(Registers regs, SpecialRegisters sregs, long identityLimit) {
        this.regs = regs;
        this.sregs = sregs;
        this.identityLimit = identityLimit;
    }

    /** Maps the 4 KiB linear page holding {@code linear} to the physical page holding {@code physical}. */
    RecordingVcpu mapPage(long linear, long physical) {
        remappedPages.put(linear & PAGE_MASK, physical & PAGE_MASK);
        return this;
    }

    /** Makes the page holding {@code linear} not present. */
    RecordingVcpu unmapPage(long linear) {
        unmappedPages.add(linear & PAGE_MASK);
        return this;
    }

    List<InjectedException> pendingExceptions() { return List.copyOf(pending); }

    /** Vectors delivered through {@link #injectSoftwareInterrupt}, after the last register write (as KVM would keep). */
    List<Integer> softwareInterrupts() { return List.copyOf(softwareInterrupts); }

    int registerWrites() { return registerWrites; }

    int fpuWrites() { return fpuWrites; }

    @Override public int index() { return 0; }

    @Override public VmExit run() { throw new UnsupportedOperationException("a recording vCPU does not run"); }

    @Override public void kick() { }

    @Override public Registers getRegisters() { return regs; }

    @Override
    public void setRegisters(Registers newRegs) {
        regs = newRegs;
        registerWrites++;
        pending.clear();
        softwareInterrupts.clear();
    }

    @Override public SpecialRegisters getSpecialRegisters() { return sregs; }

    @Override public void setSpecialRegisters(SpecialRegisters newSregs) { sregs = newSregs; }

    @Override public FpuState getFpu() { return fpu; }

    @Override
    public void setFpu(FpuState newFpu) {
        fpu = newFpu;
        fpuWrites++;
    }

    @Override public List<MsrEntry> getMsrs(List<Integer> indexes) { return List.of(); }

    @Override public void setMsrs(List<MsrEntry> msrs) { }

    @Override public void setCpuid(List<CpuidEntry> entries) { }

    @Override
    public long translate(long linearAddress) {
        long page = linearAddress & PAGE_MASK;
        long offset = linearAddress & ~PAGE_MASK;
        if (unmappedPages.contains(page)) return -1;
        Long remapped = remappedPages.get(page);
        if (remapped != null) return remapped + offset;
        return Long.compareUnsigned(linearAddress, identityLimit) < 0 ? linearAddress : -1;
    }

    @Override
    public void injectSoftwareInterrupt(int vector) {
        softwareInterrupts.add(vector);
    }

    @Override
    public void injectException(int vector, int errorCode) {
        pending.add(new InjectedException(vector, errorCode));
    }

    @Override public void close() { }
}
