package org.jhyve.vm;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.boot.BootLoader;
import org.jhyve.boot.BootState;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.HypervisorVm;
import org.jhyve.hv.Registers;
import org.jhyve.hv.VmSpec;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;

/** A hypervisor for lifecycle tests: heap guest memory and {@link FakeVcpu}s, which the test programs. */
final class FakeHypervisor implements Hypervisor {
    final List<FakeVcpu> vcpus = new ArrayList<>();
    volatile boolean vmClosed;

    /** Boots nothing: the boot vCPU starts at 0x1000 with the fake vCPU's flat 64-bit segments. */
    static final BootLoader NOTHING = (memory, count) ->
            new BootState(Registers.initial(0x1000), new FakeVcpu(0).getSpecialRegisters(), List.of(), "nothing");

    @Override public String name() { return "fake"; }

    @Override
    public HypervisorVm createVm(VmSpec spec) {
        GuestMemory memory = SegmentGuestMemory.onHeap(spec.memoryBytes());
        return new HypervisorVm() {
            @Override public GuestMemory memory() { return memory; }

            @Override
            public FakeVcpu createVcpu(int index) {
                FakeVcpu v = new FakeVcpu(index);
                synchronized (vcpus) {
                    vcpus.add(v);
                }
                return v;
            }

            @Override public List<CpuidEntry> supportedCpuid() { return List.of(); }

            @Override public void setIrqLine(int gsi, boolean level) { }

            @Override public void close() { vmClosed = true; }
        };
    }

    FakeVcpu vcpu(int index) {
        synchronized (vcpus) {
            return vcpus.get(index);
        }
    }

    @Override public void close() { }
}
