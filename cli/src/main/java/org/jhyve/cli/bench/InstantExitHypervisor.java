package org.jhyve.cli.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.jhyve.firmware.LowMemoryMap;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.HypervisorVm;
import org.jhyve.hv.MsrEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;
import org.jhyve.hv.VmSpec;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;

/**
 * A measuring instrument for {@code scripts/bench-exits}, not a hypervisor anyone runs a guest on: its one
 * vCPU "runs" exit-loop.bin's behaviour without running any code, returning at once the exits the program
 * would cause (N one-byte {@code out}s to the unclaimed port 0x510, N read from guest RAM where the
 * benchmark put it, then the ACPI power-off write to PM1a_CNT). Everything after the exit is jhyve's real
 * path: the vCPU loop, its trace and JFR hooks, the port bus, ACPI power management, the VM's ending.
 *
 * <p>On KVM an exit costs microseconds and varies by ±15% from run to run on a shared host, which hides
 * what jhyve's own code adds per exit; here that is all there is to time, so a few nanoseconds show.
 */
final class InstantExitHypervisor implements Hypervisor {
    /** exit-loop.s's port: nothing claims it, so each write walks the bus and is dropped. */
    static final int LOOP_PORT = 0x510;
    /** ACPI PM1a_CNT, and the value exit-loop.s writes there: SLP_TYP 5 (S5) with SLP_EN. */
    static final int PM1A_CNT = 0x404, POWER_OFF = 0x3400;

    @Override
    public String name() {
        return "instant exits (benchmark instrument)";
    }

    @Override
    public HypervisorVm createVm(VmSpec spec) {
        return new InstantVm(SegmentGuestMemory.onHeap(spec.memoryBytes()));
    }

    @Override
    public void close() {}

    private record InstantVm(GuestMemory memory) implements HypervisorVm {
        @Override public Vcpu createVcpu(int index) { return new InstantVcpu(index, memory); }
        @Override public List<CpuidEntry> supportedCpuid() { return List.of(); }
        @Override public void setIrqLine(int gsi, boolean level) {}
        @Override public void close() {}
    }

    private static final class InstantVcpu implements Vcpu {
        private final int index;
        private final GuestMemory memory;
        private final MemorySegment loopData, powerOffData;
        private long remaining = -1; // read from RAM at the first run, as the program does
        private Registers registers = Registers.initial(0);
        private SpecialRegisters specialRegisters;

        InstantVcpu(int index, GuestMemory memory) {
            this.index = index;
            this.memory = memory;
            Arena arena = Arena.ofAuto();
            loopData = arena.allocate(8);
            powerOffData = arena.allocate(8);
            powerOffData.set(ValueLayout.JAVA_SHORT, 0, (short) POWER_OFF);
        }

        @Override
        public VmExit run() {
            if (remaining < 0) remaining = Integer.toUnsignedLong(memory.readInt(LowMemoryMap.PARAMETERS));
            if (remaining > 0) {
                remaining--;
                return new VmExit.PortIo(LOOP_PORT, 1, 1, true, loopData);
            }
            return new VmExit.PortIo(PM1A_CNT, 2, 1, true, powerOffData);
        }

        @Override public int index() { return index; }
        @Override public void kick() {}
        @Override public Registers getRegisters() { return registers; }
        @Override public void setRegisters(Registers regs) { registers = regs; }
        @Override public SpecialRegisters getSpecialRegisters() { return specialRegisters; }
        @Override public void setSpecialRegisters(SpecialRegisters sregs) { specialRegisters = sregs; }
        @Override public FpuState getFpu() { return FpuState.initial(); }
        @Override public void setFpu(FpuState fpu) {}
        @Override public List<MsrEntry> getMsrs(List<Integer> indexes) { return List.of(); }
        @Override public void setMsrs(List<MsrEntry> msrs) {}
        @Override public void setCpuid(List<CpuidEntry> entries) {}
        @Override public long translate(long linearAddress) { return linearAddress; }
        @Override public void close() {}
    }
}
