package org.jhyve.cli.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.jhyve.firmware.LowMemoryMap;
import org.jhyve.hv.VmExit;
import org.jhyve.memory.GuestMemory;
import org.jhyve.testing.FakeHypervisor;
import org.jhyve.testing.FakeVcpu;

/**
 * A measuring instrument for {@code scripts/bench-exits}, not a hypervisor anyone runs a guest on: vmm-core's
 * {@link FakeHypervisor} with vCPU 0 programmed to "run" exit-loop.bin's behaviour without running any code,
 * returning at once the exits the program would cause (N one-byte {@code out}s to the unclaimed port 0x510,
 * N read from guest RAM where the benchmark put it, then the ACPI power-off write to PM1a_CNT). Everything
 * after the exit is jhyve's real path: the vCPU loop, its trace and JFR hooks, the port bus, ACPI power
 * management, the VM's ending.
 *
 * <p>On KVM an exit costs microseconds and varies by ±15% from run to run on a shared host, which hides
 * what jhyve's own code adds per exit; here that is all there is to time, so a few nanoseconds show.
 */
final class InstantExitHypervisor {
    /** exit-loop.s's port: nothing claims it, so each write walks the bus and is dropped. */
    static final int LOOP_PORT = 0x510;
    /** ACPI PM1a_CNT, and the value exit-loop.s writes there: SLP_TYP 5 (S5) with SLP_EN. */
    static final int PM1A_CNT = 0x404, POWER_OFF = 0x3400;

    private InstantExitHypervisor() {}

    /** A hypervisor whose VMs' vCPU 0 runs the exit loop (exit-loop.bin has no other vCPU; any other spins). */
    static FakeHypervisor create() {
        return new FakeHypervisor((memory, index) -> index == 0 ? new ExitLoop(memory) : FakeVcpu.SPIN);
    }

    /** exit-loop.bin's exits, on one vCPU's thread. */
    private static final class ExitLoop implements FakeVcpu.Program {
        private final GuestMemory memory;
        private final MemorySegment loopData, powerOffData;
        private long remaining = -1; // read from RAM at the first run, as the program does

        ExitLoop(GuestMemory memory) {
            this.memory = memory;
            Arena arena = Arena.ofAuto();
            loopData = arena.allocate(8);
            powerOffData = arena.allocate(8);
            powerOffData.set(ValueLayout.JAVA_SHORT, 0, (short) POWER_OFF);
        }

        @Override
        public VmExit run(FakeVcpu vcpu) {
            if (remaining < 0) remaining = Integer.toUnsignedLong(memory.readInt(LowMemoryMap.PARAMETERS));
            if (remaining > 0) {
                remaining--;
                return new VmExit.PortIo(LOOP_PORT, 1, 1, true, loopData);
            }
            return new VmExit.PortIo(PM1A_CNT, 2, 1, true, powerOffData);
        }
    }
}
