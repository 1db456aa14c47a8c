package org.jhyve.vm;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Vcpu;

/**
 * Finds a machine that can never run again: every vCPU halted with interrupts disabled (or, for an
 * application processor, still waiting for a startup IPI nobody will send). bhyve ends such a VM with
 * status 2. With an in-kernel local APIC a HLT never reaches userspace, so a watcher thread kicks the
 * vCPUs about once a second and each vCPU thread reports its own state on the way back in.
 */
final class HaltDetector implements Runnable {
    private static final long PERIOD_MILLIS = 1000;
    private static final long RFLAGS_IF = 1L << 9;

    private final Machine machine;
    private final List<Vcpu> vcpus;
    private final AtomicLong probe = new AtomicLong();
    /** For each vCPU, the probe number it last found itself dead in (0: not dead). */
    private final AtomicLongArray deadAt;
    /** For each vCPU, the probe number it last checked itself in. */
    private final AtomicLongArray checkedAt;
    private volatile boolean stopped;

    HaltDetector(Machine machine, List<Vcpu> vcpus) {
        this.machine = machine;
        this.vcpus = vcpus;
        this.deadAt = new AtomicLongArray(vcpus.size());
        this.checkedAt = new AtomicLongArray(vcpus.size());
    }

    @Override
    public void run() {
        while (!stopped && machine.outcome() == null) {
            try {
                Thread.sleep(PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            probe.incrementAndGet();
            for (Vcpu v : vcpus) v.kick();
        }
    }

    void stop() {
        stopped = true;
    }

    /** Called by a vCPU's thread after an interrupted run: records whether it is dead for this probe. */
    void check(Vcpu vcpu) {
        long current = probe.get();
        if (current == 0) return;
        // Once per probe and vCPU: with jhyve's own interrupt platform every injected interrupt is a kick, and
        // asking the hypervisor for registers on each would cost more than the interrupt.
        if (checkedAt.getAndSet(vcpu.index(), current) == current) return;
        boolean dead = vcpu.isParked() && !interruptsEnabled(vcpu);
        deadAt.set(vcpu.index(), dead ? current : 0);
        if (!dead) return;
        for (int i = 0; i < deadAt.length(); i++) {
            if (deadAt.get(i) != current) return;
        }
        machine.requestExit(ExitStatus.HALT, "every vCPU halted with interrupts disabled");
    }

    private static boolean interruptsEnabled(Vcpu vcpu) {
        Registers r = vcpu.getRegisters();
        return (r.rflags() & RFLAGS_IF) != 0;
    }
}
