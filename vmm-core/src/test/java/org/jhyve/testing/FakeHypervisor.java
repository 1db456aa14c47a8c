package org.jhyve.testing;

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

/**
 * A hypervisor that runs no guest code, for testing the VM's lifecycle and exit handling on any machine:
 * guest RAM on the Java heap, and {@link FakeVcpu}s whose exits a test scripts. Each vCPU starts with the
 * program its {@link Guest} gives (by default a guest spinning until kicked); a test can reprogram the vCPUs
 * of the VM built last ({@link #vcpu}) before starting it. Shared with other modules through the test-jar.
 *
 * <p>Threads: {@link #createVm} on the building thread; the observers ({@link #vm()}, {@link FakeVm#vcpus()},
 * {@link FakeVm#isClosed()}) from any.
 */
public final class FakeHypervisor implements Hypervisor {
    /** What the vCPUs of a new VM run, given its guest RAM: the program of vCPU {@code index}. */
    @FunctionalInterface
    public interface Guest {
        FakeVcpu.Program program(GuestMemory memory, int index);
    }

    /** Boots nothing: the boot vCPU starts at 0x1000 with the fake vCPU's flat 64-bit segments. */
    public static final BootLoader NOTHING = (memory, count) ->
            new BootState(Registers.initial(0x1000), FakeVcpu.longModeFlat(), List.of(), "nothing");

    private final Guest guest;
    /** Only the last VM: a benchmark builds many, and each holds its guest RAM. */
    private volatile FakeVm last;

    /** Every vCPU spins until kicked, unless the test reprograms it. */
    public FakeHypervisor() {
        this((memory, index) -> FakeVcpu.SPIN);
    }

    public FakeHypervisor(Guest guest) {
        this.guest = guest;
    }

    @Override public String name() { return "fake"; }

    @Override
    public FakeVm createVm(VmSpec spec) {
        FakeVm vm = new FakeVm(SegmentGuestMemory.onHeap(spec.memoryBytes()), guest);
        last = vm;
        return vm;
    }

    /** The VM built last. */
    public FakeVm vm() {
        FakeVm vm = last;
        if (vm == null) throw new IllegalStateException("no VM built on this hypervisor yet");
        return vm;
    }

    /** vCPU {@code index} of the VM built last. */
    public FakeVcpu vcpu(int index) {
        return vm().vcpu(index);
    }

    @Override public void close() { }

    /** A fake VM: its RAM, its vCPUs, and whether it was closed. Interrupt lines lead nowhere. */
    public static final class FakeVm implements HypervisorVm {
        private final GuestMemory memory;
        private final Guest guest;
        private final List<FakeVcpu> vcpus = new ArrayList<>();
        private volatile boolean closed;

        FakeVm(GuestMemory memory, Guest guest) {
            this.memory = memory;
            this.guest = guest;
        }

        @Override public GuestMemory memory() { return memory; }

        @Override
        public FakeVcpu createVcpu(int index) {
            FakeVcpu vcpu = new FakeVcpu(index, guest.program(memory, index));
            synchronized (vcpus) {
                vcpus.add(vcpu);
            }
            return vcpu;
        }

        public FakeVcpu vcpu(int index) {
            synchronized (vcpus) {
                return vcpus.get(index);
            }
        }

        public List<FakeVcpu> vcpus() {
            synchronized (vcpus) {
                return List.copyOf(vcpus);
            }
        }

        public boolean isClosed() { return closed; }

        @Override public List<CpuidEntry> supportedCpuid() { return List.of(); }

        @Override public void setIrqLine(int gsi, boolean level) { }

        @Override public void close() { closed = true; }
    }
}
