package org.jhyve.vm.debug;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jhyve.gdb.Breakpoint;
import org.jhyve.gdb.CpuState;
import org.jhyve.gdb.GdbTarget;
import org.jhyve.gdb.ResumeAction;
import org.jhyve.gdb.Stop;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;
import org.jhyve.memory.GuestMemory;

/**
 * A VM as gdb's target: threads are vCPUs (thread 1 is vCPU 0), registers and memory are
 * read on the vCPU's own thread while it is parked ({@link DebugGate}), and breakpoints are {@code int3} bytes
 * or debug registers ({@link DebugBreakpoints}), caught through KVM's guest debugging.
 *
 * <p>Software breakpoints arrive two ways. Where KVM runs guest code on VMX/SVM, an {@code int3} is a
 * {@link VmExit.Debug} with exception 3 (KVM_GUESTDBG_USE_SW_BP). Where KVM emulates guest kernel code (no
 * VMX/SVM), its emulator cannot execute {@code int3} and reports an emulation failure with RIP on it; an
 * {@code int3} of ours there is a stop, any other goes to the guest as before ({@code InstructionFallback}).
 */
final class VmDebugger implements GdbTarget, VcpuDebugHooks {
    private static final int VECTOR_DB = 1;
    private static final int VECTOR_BP = 3;
    /** DR6 bits 0-3 (B0-B3): which debug register matched. */
    private static final int DR6_HIT_MASK = 0xf;

    private final List<Vcpu> vcpus;
    private final GuestMemory memory;
    private final Runnable kill;
    private final DebugGate gate;
    private final DebugBreakpoints breakpoints;

    /** {@code kill} ends the machine (gdb's {@code kill}); the vCPUs start held until gdb continues them. */
    VmDebugger(List<Vcpu> vcpus, GuestMemory memory, Runnable kill) {
        this(vcpus, memory, kill, true);
    }

    /** As above; with {@code startHeld} false the vCPUs run until a gdb attaches. */
    VmDebugger(List<Vcpu> vcpus, GuestMemory memory, Runnable kill, boolean startHeld) {
        this.vcpus = List.copyOf(vcpus);
        this.memory = memory;
        this.kill = kill;
        this.gate = new DebugGate(vcpus, startHeld);
        this.breakpoints = new DebugBreakpoints(memory);
    }

    /** The VM ended with exit status {@code exitCode} ({@code ExitStatus.code()}), which a waiting gdb hears. */
    void vmEnded(int exitCode) {
        gate.vmEnded(exitCode);
    }

    // ---- VcpuDebugHooks: on the vCPU threads ----

    @Override
    public boolean awaitRun(Vcpu vcpu) {
        return gate.awaitRun(vcpu);
    }

    @Override
    public boolean debugExit(Vcpu vcpu, VmExit.Debug exit) {
        int thread = vcpu.index() + 1;
        if (exit.exception() == VECTOR_BP) {
            if (!breakpoints.isPlanted(exit.rip())) return false; // the guest's own int3
            gate.stop(vcpu.index(), new Stop.Trapped(thread, Stop.Cause.SOFTWARE_BREAKPOINT));
            return true;
        }
        if (exit.exception() != VECTOR_DB) return false;
        gate.stop(vcpu.index(), debugRegisterStop(thread, exit.dr6()));
        return true;
    }

    /** A #DB: the first debug register DR6 names, else a single step (DR6.BS) or something of the guest's. */
    private Stop debugRegisterStop(int thread, long dr6) {
        for (int slot = 0; slot < 4; slot++) {
            if ((dr6 & DR6_HIT_MASK & (1L << slot)) == 0) continue;
            var bp = breakpoints.hardwareSlot(slot);
            if (bp.isEmpty()) continue;
            return switch (bp.get().type()) {
                case WRITE_WATCH -> new Stop.Trapped(thread, Stop.Cause.WRITE_WATCH, bp.get().address());
                case ACCESS_WATCH, READ_WATCH -> new Stop.Trapped(thread, Stop.Cause.ACCESS_WATCH, bp.get().address());
                case HARDWARE, SOFTWARE -> new Stop.Trapped(thread, Stop.Cause.HARDWARE_BREAKPOINT);
            };
        }
        return new Stop.Trapped(thread, Stop.Cause.NONE);
    }

    @Override
    public boolean breakpointInstruction(Vcpu vcpu) {
        if (!breakpoints.hasSoftware()) return false;
        Registers regs = vcpu.getRegisters();
        SpecialRegisters sregs = vcpu.getSpecialRegisters();
        long linear = sregs.longMode() ? regs.rip() : sregs.cs().base() + regs.rip();
        if (!breakpoints.isPlanted(linear)) return false;
        gate.stop(vcpu.index(), new Stop.Trapped(vcpu.index() + 1, Stop.Cause.SOFTWARE_BREAKPOINT));
        return true;
    }

    @Override
    public void instructionCompleted(Vcpu vcpu) {
        if (gate.isStepping(vcpu.index())) gate.stop(vcpu.index(), new Stop.Trapped(vcpu.index() + 1, Stop.Cause.NONE));
    }

    @Override
    public void vcpuExited(Vcpu vcpu) {
        gate.vcpuExited();
    }

    // ---- GdbTarget: on the stub's thread ----

    @Override
    public int threadCount() {
        return vcpus.size();
    }

    @Override
    public String describeThread(int thread) {
        return "vCPU " + (thread - 1);
    }

    @Override
    public Stop attach() {
        return gate.stopAll();
    }

    @Override
    public CpuState readRegisters(int thread) {
        return gate.onVcpu(thread - 1, v -> new CpuState(v.getRegisters(), v.getSpecialRegisters(), v.getFpu()));
    }

    /**
     * The special and FPU registers are written only when they changed: gdb mostly writes one GPR, and leaving
     * the other sets alone spares the vCPU a reload of state nobody touched (on KVM an FPU write is three
     * ioctls, through the XSAVE image too: see native-kvm's KvmVcpu.setFpu).
     */
    @Override
    public void writeRegisters(int thread, CpuState state) {
        gate.onVcpu(thread - 1, v -> {
            v.setRegisters(state.regs());
            if (!v.getSpecialRegisters().equals(state.sregs())) v.setSpecialRegisters(state.sregs());
            if (!v.getFpu().equals(state.fpu())) v.setFpu(state.fpu());
            return null;
        });
    }

    @Override
    public byte[] readMemory(int thread, long address, int length) {
        byte[] data = gate.onVcpu(thread - 1, v -> GuestVirtualMemory.read(v, memory, address, length));
        return breakpoints.hide(address, data);
    }

    @Override
    public boolean writeMemory(int thread, long address, byte[] data) {
        long[] pieces = gate.onVcpu(thread - 1, v -> GuestVirtualMemory.translate(v, memory, address, data.length));
        if (pieces == null) return false;
        GuestVirtualMemory.write(memory, pieces, address, data);
        breakpoints.rewritten(address, data);
        return true;
    }

    /** Software breakpoints are translated through vCPU 0's page tables (a kernel's are the same on every vCPU). */
    @Override
    public boolean insertBreakpoint(Breakpoint bp) {
        boolean done;
        if (bp.type() == Breakpoint.Type.SOFTWARE) {
            long[] page = gate.onVcpu(0, v -> GuestVirtualMemory.translate(v, memory, bp.address(), 1));
            done = page != null && breakpoints.plant(bp.address(), page[0]);
        } else {
            done = breakpoints.addHardware(bp);
        }
        gate.setGuestDebug(breakpoints.guestDebug());
        return done;
    }

    @Override
    public boolean removeBreakpoint(Breakpoint bp) {
        boolean done = bp.type() == Breakpoint.Type.SOFTWARE ? breakpoints.unplant(bp.address()) : breakpoints.removeHardware(bp);
        gate.setGuestDebug(breakpoints.guestDebug());
        return done;
    }

    @Override
    public void resume(Map<Integer, ResumeAction> actions, Consumer<Stop> whenStopped) {
        gate.resume(actions, whenStopped);
    }

    @Override
    public void interrupt() {
        gate.interrupt();
    }

    @Override
    public void detach() {
        breakpoints.clear();
        gate.release();
    }

    @Override
    public void kill() {
        kill.run();
    }
}
