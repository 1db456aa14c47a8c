package org.jhyve.irqchip;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.InterruptInjection;
import org.jhyve.hv.MsrEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;
import org.jhyve.testing.FakeVcpu;

/**
 * A vCPU of a hypervisor without an in-kernel irqchip, for tests of the userspace platform's vCPU side: it keeps
 * its registers, and records what is injected into it. {@link #ready} plays the guest's RFLAGS.IF (and no shadow);
 * {@link #cr8} what the guest last left in CR8. Never runs guest code.
 */
final class InjectingTestVcpu implements Vcpu, InterruptInjection {
    private final int index;
    volatile boolean ready = true;
    volatile int cr8;
    volatile boolean windowRequested;
    final List<Integer> injected = new CopyOnWriteArrayList<>();
    final AtomicInteger nmis = new AtomicInteger();
    final AtomicInteger kicks = new AtomicInteger();
    volatile Registers registers = Registers.initial(0x1000);
    volatile SpecialRegisters sregs = FakeVcpu.longModeFlat();

    InjectingTestVcpu(int index) {
        this.index = index;
    }

    @Override public boolean canInjectInterrupt() { return ready; }
    @Override public void injectInterrupt(int vector) { injected.add(vector); }
    @Override public void requestInterruptWindow(boolean request) { windowRequested = request; }
    @Override public void injectNmi() { nmis.incrementAndGet(); }
    @Override public int cr8() { return cr8; }
    @Override public void setCr8(int value) { cr8 = value; }
    @Override public long tscHz() { return 1_000_000_000L; }
    @Override public long guestTsc() { return System.nanoTime(); }

    @Override public int index() { return index; }
    @Override public VmExit run() { throw new UnsupportedOperationException("a test vCPU runs no guest"); }
    @Override public void kick() { kicks.incrementAndGet(); }
    @Override public Registers getRegisters() { return registers; }
    @Override public void setRegisters(Registers regs) { registers = regs; }
    @Override public SpecialRegisters getSpecialRegisters() { return sregs; }
    @Override public void setSpecialRegisters(SpecialRegisters s) { sregs = s; }
    @Override public FpuState getFpu() { return FpuState.initial(); }
    @Override public void setFpu(FpuState fpu) { }
    @Override public List<MsrEntry> getMsrs(List<Integer> indexes) { return List.of(); }
    @Override public void setMsrs(List<MsrEntry> msrs) { }
    @Override public void setCpuid(List<CpuidEntry> entries) { }
    @Override public long translate(long linearAddress) { return linearAddress; }
    @Override public Optional<InterruptInjection> interruptInjection() { return Optional.of(this); }
    @Override public void close() { }
}
