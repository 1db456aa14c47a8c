package org.jhyve.irqchip;

import java.util.List;
import java.util.Optional;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.GuestDebug;
import org.jhyve.hv.InterruptInjection;
import org.jhyve.hv.MsrEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;

/**
 * A hypervisor's vCPU as the userspace platform hands it to the VM: the same vCPU, except that a kick also ends a
 * halt or a wait for a startup IPI (which happen in jhyve, not in the hypervisor), and "parked" is the platform's
 * answer. Everything that stops, pauses or debugs vCPUs kicks them, so none of it needs to know the platform.
 *
 * <p>Threading rules: as {@link Vcpu}; {@link #kick()} from any thread.
 */
public final class PlatformVcpu implements Vcpu {
    private final Vcpu vcpu;
    private final UserspaceVcpuInterrupts interrupts;

    PlatformVcpu(Vcpu vcpu, UserspaceVcpuInterrupts interrupts) {
        this.vcpu = vcpu;
        this.interrupts = interrupts;
    }

    /** What the vCPU loop runs before each entry and hands each exit to. */
    public UserspaceVcpuInterrupts interrupts() {
        return interrupts;
    }

    /** The hypervisor's own vCPU. */
    public Vcpu hypervisorVcpu() {
        return vcpu;
    }

    @Override public int index() { return vcpu.index(); }

    @Override public VmExit run() { return vcpu.run(); }

    @Override
    public void kick() {
        vcpu.kick();
        interrupts.wake();
    }

    @Override public boolean isParked() { return interrupts.parked(); }

    @Override public Registers getRegisters() { return vcpu.getRegisters(); }

    @Override public void setRegisters(Registers regs) { vcpu.setRegisters(regs); }

    @Override public SpecialRegisters getSpecialRegisters() { return vcpu.getSpecialRegisters(); }

    @Override public void setSpecialRegisters(SpecialRegisters sregs) { vcpu.setSpecialRegisters(sregs); }

    @Override public FpuState getFpu() { return vcpu.getFpu(); }

    @Override public void setFpu(FpuState fpu) { vcpu.setFpu(fpu); }

    @Override public List<MsrEntry> getMsrs(List<Integer> indexes) { return vcpu.getMsrs(indexes); }

    @Override public void setMsrs(List<MsrEntry> msrs) { vcpu.setMsrs(msrs); }

    @Override public void setCpuid(List<CpuidEntry> entries) { vcpu.setCpuid(entries); }

    @Override public long translate(long linearAddress) { return vcpu.translate(linearAddress); }

    @Override public void injectException(int vector, int errorCode) { vcpu.injectException(vector, errorCode); }

    @Override public void injectSoftwareInterrupt(int vector) { vcpu.injectSoftwareInterrupt(vector); }

    @Override public void setGuestDebug(GuestDebug debug) { vcpu.setGuestDebug(debug); }

    @Override public Optional<InterruptInjection> interruptInjection() { return vcpu.interruptInjection(); }

    @Override public void close() { vcpu.close(); }
}
