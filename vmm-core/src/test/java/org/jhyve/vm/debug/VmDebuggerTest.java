package org.jhyve.vm.debug;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jhyve.gdb.Breakpoint;
import org.jhyve.gdb.CpuState;
import org.jhyve.gdb.ResumeAction;
import org.jhyve.gdb.Stop;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.GuestDebug;
import org.jhyve.hv.VmExit;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.jhyve.testing.FakeVcpu;
import org.jhyve.vm.ExitStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Breakpoints, memory, register writes and debug exits of the VM glue, on heap memory and a vCPU thread that only parks. */
@Timeout(20)
class VmDebuggerTest {
    private static final long CODE = 0x8000;

    private final FakeVcpu vcpu = new FakeVcpu(0);
    private final GuestMemory memory = SegmentGuestMemory.onHeap(1 << 20);
    private final List<String> kills = new ArrayList<>();
    private final VmDebugger debugger = new VmDebugger(List.of(vcpu), memory, () -> kills.add("killed"));
    private Thread vcpuThread;

    @BeforeEach
    void start() {
        memory.write(CODE, new byte[] {(byte) 0xbb, 3, 0, 0, 0, (byte) 0xff, (byte) 0xcb});
        vcpuThread = Thread.ofPlatform().start(() -> {
            while (debugger.awaitRun(vcpu)) java.util.concurrent.locks.LockSupport.parkNanos(100_000);
            debugger.vcpuExited(vcpu);
        });
        assertThat(debugger.attach()).isEqualTo(new Stop.Trapped(1, Stop.Cause.NONE));
    }

    @AfterEach
    void end() throws InterruptedException {
        debugger.vmEnded(ExitStatus.POWER_OFF.code());
        vcpuThread.join(5000);
    }

    @Test
    void aSoftwareBreakpointIsAnInt3InRamThatReadsBackAsTheOriginalByte() {
        Breakpoint bp = new Breakpoint(Breakpoint.Type.SOFTWARE, CODE + 5, 1);
        assertThat(debugger.insertBreakpoint(bp)).isTrue();
        assertThat(memory.readByte(CODE + 5)).isEqualTo((byte) 0xcc);
        assertThat(debugger.readMemory(1, CODE, 7)).containsExactly(0xbb, 3, 0, 0, 0, 0xff, 0xcb);
        assertThat(debugger.removeBreakpoint(bp)).isTrue();
        assertThat(memory.readByte(CODE + 5)).isEqualTo((byte) 0xff);
        assertThat(debugger.removeBreakpoint(bp)).isFalse();
    }

    @Test
    void writingOverABreakpointChangesTheByteItStandsFor() {
        debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.SOFTWARE, CODE + 5, 1));
        assertThat(debugger.writeMemory(1, CODE + 4, new byte[] {0x11, 0x22})).isTrue();
        assertThat(memory.readByte(CODE + 4)).isEqualTo((byte) 0x11);
        assertThat(memory.readByte(CODE + 5)).as("still the breakpoint").isEqualTo((byte) 0xcc);
        debugger.detach();
        assertThat(memory.readByte(CODE + 5)).as("detach puts the new byte back").isEqualTo((byte) 0x22);
    }

    @Test
    void unmappedAddressesAreRefused() {
        assertThat(debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.SOFTWARE, 0x200000, 1))).isFalse();
        assertThat(debugger.readMemory(1, (1 << 20) - 2, 8)).as("stops at the unmapped page").hasSize(2);
        assertThat(debugger.writeMemory(1, (1 << 20) - 2, new byte[4])).isFalse();
    }

    @Test
    void debugRegistersHoldFourBreakpointsAndWatchpoints() {
        for (int i = 0; i < 3; i++) {
            assertThat(debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.HARDWARE, CODE + i, 1))).isTrue();
        }
        assertThat(debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.WRITE_WATCH, 0x9002, 4))).as("unaligned").isFalse();
        assertThat(debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.WRITE_WATCH, 0x9000, 4))).isTrue();
        assertThat(debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.HARDWARE, CODE + 9, 1))).as("a fifth").isFalse();
    }

    @Test
    void debugExitsBecomeStopsNamingTheirCause() throws Exception {
        debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.SOFTWARE, CODE + 5, 1));
        debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.HARDWARE, CODE, 1));
        debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.WRITE_WATCH, 0x9000, 4));

        assertThat(stopAfter(new VmExit.Debug(CODE + 5, 3, 0, 0))).isEqualTo(new Stop.Trapped(1, Stop.Cause.SOFTWARE_BREAKPOINT));
        assertThat(stopAfter(new VmExit.Debug(CODE, 1, 0xffff0ff1L, 0))).isEqualTo(new Stop.Trapped(1, Stop.Cause.HARDWARE_BREAKPOINT));
        assertThat(stopAfter(new VmExit.Debug(CODE, 1, 0xffff0ff2L, 0))).isEqualTo(new Stop.Trapped(1, Stop.Cause.WRITE_WATCH, 0x9000));
        assertThat(stopAfter(new VmExit.Debug(CODE + 7, 1, 0xffff4ff0L, 0))).as("a single step").isEqualTo(new Stop.Trapped(1, Stop.Cause.NONE));
        assertThat(debugger.debugExit(vcpu, new VmExit.Debug(CODE + 1, 3, 0, 0))).as("an int3 of the guest's").isFalse();
    }

    /** Resumes, feeds the exit as the vCPU thread would meet it, and returns the stop gdb hears. */
    private Stop stopAfter(VmExit.Debug exit) throws Exception {
        CompletableFuture<Stop> stop = new CompletableFuture<>();
        debugger.resume(Map.of(1, ResumeAction.CONTINUE), stop::complete);
        assertThat(debugger.debugExit(vcpu, exit)).isTrue();
        return stop.get(5, TimeUnit.SECONDS);
    }

    @Test
    void anEmulationFailureOnAPlantedInt3IsTheBreakpoint() throws Exception {
        assertThat(debugger.breakpointInstruction(vcpu)).as("no breakpoints").isFalse();
        debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.SOFTWARE, CODE + 5, 1));
        vcpu.setRegisters(vcpu.getRegisters().withRip(CODE + 5));
        CompletableFuture<Stop> stop = new CompletableFuture<>();
        debugger.resume(Map.of(1, ResumeAction.CONTINUE), stop::complete);
        assertThat(debugger.breakpointInstruction(vcpu)).isTrue();
        assertThat(stop.get(5, TimeUnit.SECONDS)).isEqualTo(new Stop.Trapped(1, Stop.Cause.SOFTWARE_BREAKPOINT));
        vcpu.setRegisters(vcpu.getRegisters().withRip(CODE + 6));
        assertThat(debugger.breakpointInstruction(vcpu)).isFalse();
    }

    @Test
    void softwareBreakpointsTurnOnInt3InterceptionAndDetachTurnsEverythingOff() throws Exception {
        debugger.insertBreakpoint(new Breakpoint(Breakpoint.Type.SOFTWARE, CODE + 5, 1));
        debugger.resume(Map.of(1, ResumeAction.CONTINUE), s -> { });
        awaitDebug(new GuestDebug(false, true, List.of()));
        debugger.detach();
        awaitDebug(GuestDebug.OFF);
        assertThat(memory.readByte(CODE + 5)).isEqualTo((byte) 0xff);
    }

    @Test
    void registerWritesReachTheFpuOnlyWhenItChanged() {
        CpuState read = debugger.readRegisters(1);
        debugger.writeRegisters(1, new CpuState(read.regs().withRbx(7), read.sregs(), read.fpu()));
        assertThat(vcpu.getRegisters().rbx()).isEqualTo(7);
        assertThat(vcpu.fpuWrites()).as("an equal copy of what was read is not written").isZero();

        byte[] xmm = read.fpu().xmm();
        xmm[16] = 0x42; // xmm1's low byte
        FpuState changed = read.fpu().withXmm(xmm).withMxcsr(0x1fa0);
        debugger.writeRegisters(1, new CpuState(read.regs(), read.sregs(), changed));
        assertThat(vcpu.fpuWrites()).isEqualTo(1);
        assertThat(vcpu.getFpu()).isEqualTo(changed);
        assertThat(debugger.readRegisters(1).fpu().xmm()[16]).isEqualTo((byte) 0x42);
    }

    @Test
    void killEndsTheMachine() {
        debugger.kill();
        assertThat(kills).containsExactly("killed");
    }

    private void awaitDebug(GuestDebug expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!vcpu.guestDebug().equals(expected) && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(vcpu.guestDebug()).isEqualTo(expected);
    }
}
