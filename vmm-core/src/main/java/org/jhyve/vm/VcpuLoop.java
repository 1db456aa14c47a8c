package org.jhyve.vm;

import java.util.HexFormat;
import org.jhyve.boot.BootState;
import org.jhyve.build.Observability;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;
import org.jhyve.jfr.Jfr;
import org.jhyve.jfr.VmExitEvent;
import org.jhyve.trace.ExitReasons;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;
import org.jhyve.trace.VcpuTrace;
import org.jhyve.vm.debug.VcpuDebugHooks;
import org.jhyve.irqchip.PlatformVcpu;
import org.jhyve.irqchip.UserspaceVcpuInterrupts;
import org.jhyve.x86.InstructionFallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VM_RUN loop of one vCPU, on its own platform thread: run, hand the exit to its handler, repeat
 * until the VM ends. Pausing parks the thread between runs. Whatever it throws ends the VM with
 * {@link ExitStatus#ERROR}, naming the exception ({@link Machine#vcpuFailed}).
 *
 * <p>Each exit is a {@code jhyve.VmExit} JFR event when a recording wants it, and, when tracing is on, an
 * {@code exit} trace line; the lines of the device accesses it leads to name its RIP too (read from the
 * hypervisor only for exits that make a line). Both cost a branch each when off.
 *
 * <p>The hooks here, in Bus and in PciBus are guarded by the build switch {@link Observability#HOOKS}: a
 * vmm-core built with {@code -Djhyve.observability=false} has none, which {@code scripts/bench-exits} measures
 * the hooks against. A new hook gets the same guard.
 */
final class VcpuLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(VcpuLoop.class);

    private final Machine machine;
    private final PauseGate pauses;
    private final Vcpu vcpu;
    private final BootState bootState;
    private final ExitHandler handler;
    private final HaltDetector haltDetector;
    /** Made on first use: most VMs never need it, and it brings the instruction decoder. This vCPU's thread only. */
    private InstructionFallback fallback;
    private final Tracer tracer;
    private final VcpuDebugHooks debug;
    /** The userspace interrupt platform's side of this vCPU, or null when the hypervisor injects for itself. */
    private final UserspaceVcpuInterrupts interrupts;
    /** Null unless the VM checks its hypervisor's MMIO decoding against jhyve's ({@link VmBuilder#mmioCrossCheck}). */
    private final MmioCrossCheck crossCheck;

    VcpuLoop(Machine machine, PauseGate pauses, Vcpu vcpu, BootState bootState, ExitHandler handler, HaltDetector haltDetector,
             VcpuDebugHooks debug) {
        this.machine = machine;
        this.pauses = pauses;
        this.debug = debug;
        this.tracer = machine.tracer();
        this.haltDetector = haltDetector;
        this.vcpu = vcpu;
        this.bootState = bootState;
        this.handler = handler;
        this.interrupts = vcpu instanceof PlatformVcpu p ? p.interrupts() : null;
        this.crossCheck = machine.mmioCrossCheck();
    }

    @Override
    public void run() {
        try {
            if (bootState != null) {
                // KVM wants a vCPU's state set from the thread that runs it.
                vcpu.setSpecialRegisters(bootState.specialRegisters());
                vcpu.setRegisters(bootState.registers());
                if (!bootState.msrs().isEmpty()) vcpu.setMsrs(bootState.msrs());
            }
            VcpuTrace position = Observability.HOOKS ? tracer.attachVcpu(vcpu.index(), () -> vcpu.getRegisters().rip()) : null;
            while (pauses.awaitRunnable() && debug.awaitRun(vcpu)) {
                if (interrupts != null && !interrupts.beforeRun()) {
                    // Halted or waiting for a startup IPI, and kicked: look at pause and stop, tell the halt detector.
                    haltDetector.check(vcpu);
                    continue;
                }
                VmExit exit = vcpu.run();
                if (Observability.HOOKS && tracer.enabled()) trace(exit, position);
                // No event class is loaded until JFR is up (Jfr#started says why).
                VmExitEvent event = Observability.HOOKS && Jfr.started() ? new VmExitEvent() : null;
                if (event != null) event.begin();
                handle(exit);
                if (event != null) event.complete(vcpu.index(), exit);
            }
            // Where each vCPU was when the VM ended: what one needs to see why a guest hung.
            if (log.isInfoEnabled()) log.info("stopped: {}", GuestCode.describe(vcpu, machine.memory()));
        } catch (Throwable e) {
            // Throwable, not only RuntimeException and Error: a checked exception rethrown unchecked (from a
            // MethodHandle or a lambda in a device) must end the VM as an error too, not kill this thread quietly.
            machine.vcpuFailed(vcpu.index(), e);
        } finally {
            debug.vcpuExited(vcpu);
        }
    }

    private void trace(VmExit exit, VcpuTrace position) {
        position.newExit();
        if (tracer.enabled(TraceKind.EXIT)) tracer.record(ExitReasons.event(exit));
    }

    private void handle(VmExit exit) {
        if (crossCheck != null && exit instanceof VmExit.Mmio m) crossCheck.check(vcpu, machine.memory(), m);
        if (interrupts != null && interrupts.handle(exit)) return;
        switch (exit) {
            case VmExit.PortIo io -> handler.portIo(io);
            case VmExit.Mmio m -> handler.mmio(m);
            case VmExit.Interrupted ignored -> haltDetector.check(vcpu);
            case VmExit.InterruptWindow ignored -> { }
            // Only the userspace platform routes MSRs here, and it took them above; refuse like the hypervisor would.
            case VmExit.Msr m -> m.reply().fault();
            case VmExit.Halt ignored -> machine.requestExit(ExitStatus.HALT, "vCPU " + vcpu.index() + " halted");
            case VmExit.Shutdown ignored -> machine.requestExit(ExitStatus.TRIPLE_FAULT,
                    "triple fault: " + GuestCode.describe(vcpu, machine.memory()));
            case VmExit.SystemEvent e -> machine.requestExit(switch (e.kind()) {
                case SHUTDOWN -> ExitStatus.POWER_OFF;
                case RESET -> ExitStatus.RESET;
                case CRASH, OTHER -> ExitStatus.ERROR;
            }, "system event " + e.kind());
            case VmExit.InternalError e when e.isEmulationFailure() -> {
                if (!debug.breakpointInstruction(vcpu)) completeInstruction(e.instructionBytes());
            }
            case VmExit.InternalError e -> machine.requestExit(ExitStatus.ERROR, describeInternalError(e));
            case VmExit.FailEntry f -> machine.requestExit(ExitStatus.ERROR, String.format(
                    "VM entry failed (hardware reason 0x%x): %s", f.reason(), GuestCode.describe(vcpu, machine.memory())));
            case VmExit.Debug d when debug.debugExit(vcpu, d) -> { }
            // An int3 of the guest's own while a debugger intercepts them: the guest gets its #BP.
            case VmExit.Debug d when d.exception() == 3 -> completeInstruction(new byte[0]);
            case VmExit.Debug d -> machine.requestExit(ExitStatus.ERROR, String.format(
                    "unexpected debug exit (exception %d) at RIP 0x%x", d.exception(), d.rip()));
            case VmExit.Unknown u -> machine.requestExit(ExitStatus.ERROR, String.format(
                    "unhandled exit %s (%d): %s", u.description(), u.reason(), GuestCode.describe(vcpu, machine.memory())));
        }
    }

    /**
     * The hypervisor's emulator gave up on an instruction (on hosts without VMX/SVM it emulates all guest
     * kernel code, and rejects a few instructions every Linux boot runs): complete it in Java and go on.
     */
    private void completeInstruction(byte[] reportedBytes) {
        if (fallback == null) fallback = new InstructionFallback();
        switch (fallback.complete(vcpu, machine.memory(), reportedBytes)) {
            case InstructionFallback.Result.Completed c -> {
                if (log.isDebugEnabled()) {
                    // RIP is already past the instruction; the bytes are what the hypervisor reported.
                    log.debug("vCPU {}: completed {} for the hypervisor ({}), RIP now 0x{}", vcpu.index(), c.mnemonic(),
                            HexFormat.ofDelimiter(" ").formatHex(reportedBytes), Long.toHexString(vcpu.getRegisters().rip()));
                }
                debug.instructionCompleted(vcpu);
            }
            case InstructionFallback.Result.Unsupported u -> machine.requestExit(ExitStatus.ERROR,
                    "the hypervisor could not emulate an instruction and neither can jhyve: vCPU " + vcpu.index() + ": " + u.description());
        }
    }

    private String describeInternalError(VmExit.InternalError e) {
        String what = e.isEmulationFailure() ? "the hypervisor could not emulate an instruction" : "hypervisor internal error " + e.suberror();
        String given = e.instructionBytes().length == 0 ? "" : " (reported bytes " + HexFormat.ofDelimiter(" ").formatHex(e.instructionBytes()) + ")";
        return what + ": " + GuestCode.describe(vcpu, machine.memory()) + given;
    }
}
