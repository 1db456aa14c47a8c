package org.jhyve.vm;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.GuestDebug;
import org.jhyve.hv.MsrEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;

/**
 * A vCPU for debugger and lifecycle tests: 64-bit flat segments, identity paging, registers and FPU state kept in
 * fields; it counts kicks and FPU writes and remembers its guest-debug setting. {@link #run()} returns what
 * {@link #onRun} gives (an interrupted exit unless a test says otherwise) and may throw what it throws.
 */
final class FakeVcpu implements Vcpu {
    final int index;
    final AtomicInteger kicks = new AtomicInteger();
    volatile GuestDebug debug = GuestDebug.OFF;
    volatile Registers registers;
    volatile FpuState fpu = FpuState.initial();
    final AtomicInteger fpuWrites = new AtomicInteger();
    /** What each run does; for a vCPU whose run fails, throw here. */
    volatile Supplier<VmExit> onRun = VmExit.Interrupted::new;

    FakeVcpu(int index) {
        this.index = index;
        this.registers = Registers.initial(0x1000 + index);
    }

    @Override public int index() { return index; }
    @Override public VmExit run() { return onRun.get(); }
    @Override public void kick() { kicks.incrementAndGet(); }
    @Override public Registers getRegisters() { return registers; }
    @Override public void setRegisters(Registers regs) { registers = regs; }

    @Override
    public SpecialRegisters getSpecialRegisters() {
        Segment data = Segment.data(0x18);
        DescriptorTable none = new DescriptorTable(0, 0xffff);
        return new SpecialRegisters(Segment.code64(0x10), data, data, data, data, data, data, data, none, none,
                0x80050033L, 0, 0x1000, 0x20, 0, SpecialRegisters.EFER_LME | SpecialRegisters.EFER_LMA, 0xfee00000L);
    }

    @Override public void setSpecialRegisters(SpecialRegisters sregs) { }
    @Override public FpuState getFpu() { return fpu; }

    @Override
    public void setFpu(FpuState newFpu) {
        fpu = newFpu;
        fpuWrites.incrementAndGet();
    }

    @Override public List<MsrEntry> getMsrs(List<Integer> indexes) { return List.of(); }
    @Override public void setMsrs(List<MsrEntry> msrs) { }
    @Override public void setCpuid(List<CpuidEntry> entries) { }
    /** Identity paging below 1 MiB; nothing mapped above. */
    @Override public long translate(long linearAddress) { return linearAddress < (1 << 20) ? linearAddress : -1; }
    @Override public void setGuestDebug(GuestDebug d) { debug = d; }
    @Override public void close() { }
}
