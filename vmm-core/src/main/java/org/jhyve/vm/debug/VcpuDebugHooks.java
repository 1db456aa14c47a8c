package org.jhyve.vm.debug;

import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;

/**
 * Where a debugger enters a vCPU's run loop ({@code org.jhyve.vm.VcpuLoop}). Threads: every method is called
 * on the vCPU's own thread, for that vCPU; an implementation serves all the VM's vCPUs at once. {@link #NONE}
 * (no debugger) lets every vCPU run and claims no exit.
 */
public interface VcpuDebugHooks {
    VcpuDebugHooks NONE = new VcpuDebugHooks() {
        @Override public boolean awaitRun(Vcpu vcpu) { return true; }

        @Override public boolean debugExit(Vcpu vcpu, VmExit.Debug exit) { return false; }

        @Override public boolean breakpointInstruction(Vcpu vcpu) { return false; }

        @Override public void instructionCompleted(Vcpu vcpu) { }

        @Override public void vcpuExited(Vcpu vcpu) { }
    };

    /** Before each run: parks while the debugger holds the vCPU stopped; false once the VM ends. */
    boolean awaitRun(Vcpu vcpu);

    /** A debug exit; true when it is the debugger's (a stop is reported), false when it belongs to the guest. */
    boolean debugExit(Vcpu vcpu, VmExit.Debug exit);

    /**
     * The hypervisor could not emulate the instruction at CS:RIP; true when it is one of the debugger's
     * breakpoints (hosts that emulate guest kernel code fail on {@code int3} instead of reporting it).
     */
    boolean breakpointInstruction(Vcpu vcpu);

    /** jhyve completed an instruction for the hypervisor: for a vCPU being single-stepped, that is the step. */
    void instructionCompleted(Vcpu vcpu);

    /** The vCPU's thread leaves its loop. */
    void vcpuExited(Vcpu vcpu);
}
