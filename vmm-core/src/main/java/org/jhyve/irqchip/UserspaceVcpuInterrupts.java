package org.jhyve.irqchip;

import java.util.OptionalLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jhyve.hv.InterruptInjection;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vCPU's side of the userspace platform: what a hypervisor with an in-kernel irqchip does between two runs,
 * done by the vCPU's own thread. Before each run it injects the highest-priority interrupt its local APIC (or, for
 * ExtINT, the PIC) holds, when the guest can take one, and otherwise asks for the interrupt window; HLT parks the
 * thread until an interrupt the vCPU can take arrives; application processors wait for their startup IPI; the APIC
 * page and MSRs are served from the local APIC; CR8 and the APIC's TPR are kept equal.
 *
 * <p>Threading rules: {@link #beforeRun} and {@link #handle} on the vCPU's thread only. The {@link LocalApicListener}
 * methods and {@link #wake} from any thread: they set state under the lock, signal, and kick the vCPU out of the
 * guest; none blocks.
 */
public final class UserspaceVcpuInterrupts implements LocalApicListener {
    private static final Logger log = LoggerFactory.getLogger(UserspaceVcpuInterrupts.class);

    /** The xAPIC register page, at its power-on base (jhyve's MADT and MP table say so; relocation is not offered). */
    public static final long APIC_PAGE = 0xfee0_0000L;
    private static final long APIC_PAGE_SIZE = 0x1000;

    private final Vcpu vcpu;
    private final InterruptInjection injection;
    private final CascadedPics pics;
    private final PlatformEvents events;
    private LocalApic apic;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Guarded by {@link #lock}. */
    private VcpuRunState state;
    /** Guarded by {@link #lock}: the vector of a startup IPI not yet acted on, or -1. */
    private int startupVector = -1;
    /** Guarded by {@link #lock}: set by {@link #wake} and the listener, cleared by the vCPU thread when it looks. */
    private boolean poked;
    /** Whether the guest had interrupts enabled when it halted: a halted vCPU with IF=0 waits for an NMI or INIT only. */
    private boolean haltedWithInterruptsEnabled;
    private long unownedMsrs;
    /** The CR8 this thread set before the last entry; the vCPU's thread only. */
    private int cr8AtEntry;
    /** An NMI taken from the APIC to end a halt, injected by the next {@link #beforeRun}; the vCPU's thread only. */
    private boolean nmiTaken;

    UserspaceVcpuInterrupts(Vcpu vcpu, InterruptInjection injection, CascadedPics pics, boolean bootProcessor, PlatformEvents events) {
        this.vcpu = vcpu;
        this.injection = injection;
        this.pics = pics;
        this.events = events;
        this.state = bootProcessor ? VcpuRunState.RUNNING : VcpuRunState.WAITING_FOR_STARTUP;
    }

    /** The local APIC, set once when the platform has made it (it needs this object as its listener). */
    void attach(LocalApic localApic) {
        this.apic = localApic;
    }

    /**
     * Before a run: acts on a startup IPI, waits out a halt, injects what is pending. Returns false when the vCPU must
     * not run yet (still halted, or waiting for a startup IPI) and was woken for another reason (a kick: pause, stop,
     * gdb): the caller checks those, then calls again.
     */
    public boolean beforeRun() {
        if (!awaitRunnable()) return false;
        syncTprFromCr8();
        if (nmiTaken || apic.takeNmi()) {
            nmiTaken = false;
            injection.injectNmi();
            events.nmi(vcpu.index());
        }
        if (injection.canInjectInterrupt()) {
            int vector = apic.pendingVector();
            if (vector >= 0) {
                apic.accept(vector);
                injection.injectInterrupt(vector);
                events.injected(vcpu.index(), vector, false);
            } else if (apic.extIntPending() && pics.pending()) {
                int picVector = pics.acknowledge();
                apic.acceptExtInt();
                injection.injectInterrupt(picVector);
                events.injected(vcpu.index(), picVector, true);
            }
        }
        // One injection per entry: whatever else is pending waits for the next window.
        injection.requestInterruptWindow(somethingToInject());
        cr8AtEntry = apic.tpr() >>> 4;
        injection.setCr8(cr8AtEntry);
        return true;
    }

    /**
     * The guest may have written CR8 (MOV to CR8 does not exit on KVM without an in-kernel APIC): the APIC's TPR follows.
     * Only a CR8 that differs from what this thread put there before the entry is the guest's write; anything else is
     * stale (a TPR written through the APIC page since then must not be undone by it).
     */
    private void syncTprFromCr8() {
        int cr8 = injection.cr8();
        if (cr8 != cr8AtEntry) apic.setTpr(cr8 << 4);
    }

    /** Halted or waiting for a startup IPI: parks until that ends or {@link #wake} is called. True when the vCPU may run. */
    private boolean awaitRunnable() {
        lock.lock();
        try {
            while (true) {
                switch (state) {
                    case RUNNING -> {
                        poked = false;
                        return true;
                    }
                    case WAITING_FOR_STARTUP -> {
                        if (startupVector >= 0) {
                            int vector = startupVector;
                            startupVector = -1;
                            state = VcpuRunState.RUNNING;
                            lock.unlock();
                            try {
                                start(vector);
                            } finally {
                                lock.lock();
                            }
                            continue;
                        }
                    }
                    case HALTED -> {
                        if (canLeaveHalt()) {
                            state = VcpuRunState.RUNNING;
                            events.woke(vcpu.index());
                            continue;
                        }
                    }
                }
                if (poked) {
                    poked = false;
                    return false;
                }
                changed.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: an NMI, or an interrupt the vCPU will take (IF was set when it halted). */
    private boolean canLeaveHalt() {
        if (nmiTaken || apic.takeNmi()) {
            nmiTaken = true;
            return true;
        }
        return haltedWithInterruptsEnabled && somethingToInject();
    }

    /** A vector the APIC would hand the CPU now, or the PIC's through an ExtINT LINT: an interrupt to inject. */
    private boolean somethingToInject() {
        return apic.pendingVector() >= 0 || (apic.extIntPending() && pics.pending());
    }

    private void start(int vector) {
        vcpu.setSpecialRegisters(ResetState.afterStartup(vcpu.getSpecialRegisters(), vector));
        vcpu.setRegisters(ResetState.registersAfterStartup());
        log.debug("vCPU {} started by a startup IPI at 0x{}", vcpu.index(), Integer.toHexString(vector << 12));
        events.started(vcpu.index(), vector);
    }

    /** Serves an exit that belongs to the interrupt platform; false when it is someone else's. */
    public boolean handle(VmExit exit) {
        switch (exit) {
            case VmExit.Halt h -> {
                lock.lock();
                try {
                    haltedWithInterruptsEnabled = injection.canInjectInterrupt();
                    state = VcpuRunState.HALTED;
                } finally {
                    lock.unlock();
                }
                events.halted(vcpu.index());
                return true;
            }
            case VmExit.InterruptWindow w -> {
                return true;
            }
            case VmExit.Msr m -> {
                msr(m);
                return true;
            }
            // The page is the APIC's only while the APIC is enabled in xAPIC mode: globally disabled, or in x2APIC
            // mode, it is nobody's, and the access goes to the bus like any other (reads all-ones, writes dropped).
            case VmExit.Mmio m when m.address() >= APIC_PAGE && m.address() < APIC_PAGE + APIC_PAGE_SIZE
                    && apic.hardwareEnabled() && !apic.x2apicMode() -> {
                int offset = (int) (m.address() - APIC_PAGE);
                if (m.write()) {
                    apic.writeMmio(offset, m.length(), m.value());
                } else {
                    m.complete(apic.readMmio(offset, m.length()));
                }
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private void msr(VmExit.Msr m) {
        if (m.write()) {
            if (apic.writeMsr(m.index(), m.value())) {
                if (m.index() == IA32_APIC_BASE) tellHypervisorApicBase(m.value());
                m.reply().complete(0);
                return;
            }
        } else {
            OptionalLong value = apic.readMsr(m.index());
            if (value.isPresent()) {
                m.reply().complete(value.getAsLong());
                return;
            }
        }
        // An MSR the hypervisor refused and the APIC does not own: #GP, as the hypervisor would have raised.
        unownedMsrs++;
        if (Long.bitCount(unownedMsrs) == 1) {
            log.debug("vCPU {}: {} of MSR 0x{} raises #GP ({} such accesses so far)", vcpu.index(), m.write() ? "wrmsr" : "rdmsr",
                    Integer.toHexString(m.index()), unownedMsrs);
        }
        m.reply().fault();
    }

    private static final int IA32_APIC_BASE = 0x1b;

    /**
     * The hypervisor keeps the CPUID's APIC flag (leaf 1 EDX bit 9) in step with IA32_APIC_BASE's enable bit, as a CPU
     * does; the guest's writes of it come to jhyve, so jhyve passes the new value on (a VMM's own write is not
     * filtered). A hypervisor that refuses it (a value it finds invalid) leaves the flag as it was: logged, not fatal.
     */
    private void tellHypervisorApicBase(long value) {
        try {
            vcpu.setMsrs(java.util.List.of(new org.jhyve.hv.MsrEntry(IA32_APIC_BASE, value)));
        } catch (RuntimeException e) {
            log.debug("vCPU {}: the hypervisor did not take IA32_APIC_BASE 0x{}: {}", vcpu.index(), Long.toHexString(value), e.getMessage());
        }
    }

    /** Halted, or waiting for a startup IPI: what the halt detector asks. */
    public boolean parked() {
        lock.lock();
        try {
            return state != VcpuRunState.RUNNING;
        } finally {
            lock.unlock();
        }
    }

    /** Ends a wait in {@link #beforeRun} (which then returns false unless the vCPU can run): a kick's other half. */
    public void wake() {
        lock.lock();
        try {
            poked = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---- LocalApicListener: any thread ----

    @Override
    public void interruptPending() {
        boolean running;
        lock.lock();
        try {
            running = state == VcpuRunState.RUNNING;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        // A running vCPU must leave the guest to be injected; a parked one was just signalled.
        if (running) vcpu.kick();
    }

    @Override
    public void init() {
        lock.lock();
        try {
            state = VcpuRunState.WAITING_FOR_STARTUP;
            startupVector = -1;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        vcpu.kick();
    }

    @Override
    public void startup(int vector) {
        lock.lock();
        try {
            // A startup IPI reaches only a processor waiting for one; others ignore it (SDM 10.4.7.3).
            if (state != VcpuRunState.WAITING_FOR_STARTUP) return;
            startupVector = vector & 0xff;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
