package org.jhyve.testing;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.GuestDebug;
import org.jhyve.hv.MsrEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;

/**
 * A vCPU without a hypervisor, for lifecycle, debugger and benchmark tests: 64-bit flat segments, identity
 * paging below 1 MiB, registers and FPU state kept in fields. What each {@link #run()} returns is up to its
 * {@link Program}: by default a guest spinning in a loop, whose run returns {@link VmExit.Interrupted} once
 * the vCPU is kicked, as on KVM; {@link #script} returns given exits first. It counts kicks and FPU writes,
 * remembers its guest-debug setting and whether it was closed.
 *
 * <p>Threads: {@link #run()} and the register accessors on the vCPU's thread (or a test's, while the vCPU
 * thread is parked); {@link #kick()} and the observers from any thread. Give the program before the vCPU's
 * thread starts.
 */
public final class FakeVcpu implements Vcpu {
    /** What a vCPU does in one run: the exit to return, or an exception to throw as a failing hypervisor call does. */
    @FunctionalInterface
    public interface Program {
        /** Called on {@code vcpu}'s thread for each {@link Vcpu#run()}. */
        VmExit run(FakeVcpu vcpu);
    }

    /** A guest in an endless loop of its own: each run lasts until the vCPU is kicked. */
    public static final Program SPIN = FakeVcpu::spinUntilKicked;

    private final int index;
    private final AtomicInteger kicks = new AtomicInteger();
    private final AtomicBoolean kickPending = new AtomicBoolean();
    private final AtomicInteger fpuWrites = new AtomicInteger();
    private volatile Thread runner;
    private volatile Program program;
    private volatile Registers registers;
    private volatile FpuState fpu = FpuState.initial();
    private volatile GuestDebug debug = GuestDebug.OFF;
    private volatile boolean parked;
    private volatile boolean closed;

    public FakeVcpu(int index) {
        this(index, SPIN);
    }

    public FakeVcpu(int index, Program program) {
        this.index = index;
        this.program = program;
        this.registers = Registers.initial(0x1000 + index);
    }

    /** The segments every fake vCPU has: flat 64-bit code and data, paging on. */
    public static SpecialRegisters longModeFlat() {
        Segment data = Segment.data(0x18);
        DescriptorTable none = new DescriptorTable(0, 0xffff);
        return new SpecialRegisters(Segment.code64(0x10), data, data, data, data, data, data, data, none, none,
                0x80050033L, 0, 0x1000, 0x20, 0, SpecialRegisters.EFER_LME | SpecialRegisters.EFER_LMA, 0xfee00000L);
    }

    /** From the next run on, each run does what {@code next} says. */
    public void program(Program next) {
        this.program = next;
    }

    /** The next runs return {@code exits}, one each, in order; then the guest spins ({@link #SPIN}). */
    public void script(VmExit... exits) {
        Queue<VmExit> queue = new ConcurrentLinkedQueue<>(List.of(exits));
        program(vcpu -> {
            VmExit next = queue.poll();
            return next != null ? next : vcpu.spinUntilKicked();
        });
    }

    /**
     * A run of a guest that is busy in a loop: returns {@link VmExit.Interrupted} once the vCPU is kicked, at
     * once when a kick came since the last run ended (KVM's {@code immediate_exit}).
     */
    public VmExit spinUntilKicked() {
        runner = Thread.currentThread();
        // The kick sets the flag before it looks for the runner, and this looks at the flag after setting the
        // runner: one of the two sees the other, so no kick is lost.
        while (!kickPending.getAndSet(false)) LockSupport.park(this);
        return new VmExit.Interrupted();
    }

    /** Halted (HLT, or waiting for a startup IPI) from now on, as {@link #isParked()} reports; or no longer. */
    public void setParked(boolean halted) {
        this.parked = halted;
    }

    public int kicks() { return kicks.get(); }

    public int fpuWrites() { return fpuWrites.get(); }

    /** What {@link #setGuestDebug} set last. */
    public GuestDebug guestDebug() { return debug; }

    public boolean isClosed() { return closed; }

    @Override public int index() { return index; }

    @Override public VmExit run() { return program.run(this); }

    @Override
    public void kick() {
        kicks.incrementAndGet();
        kickPending.set(true);
        Thread spinning = runner;
        if (spinning != null) LockSupport.unpark(spinning);
    }

    @Override public boolean isParked() { return parked; }
    @Override public Registers getRegisters() { return registers; }
    @Override public void setRegisters(Registers regs) { registers = regs; }
    @Override public SpecialRegisters getSpecialRegisters() { return longModeFlat(); }
    @Override public void setSpecialRegisters(SpecialRegisters sregs) { }
    @Override public FpuState getFpu() { return fpu; }

    @Override
    public void setFpu(FpuState newFpu) {
        fpu = newFpu;
        fpuWrites.incrementAndGet();
    }

    @Override public List<MsrEntry> getMsrs(List<Integer> indexes) { return List.of(); }
    @Override public void setMsrs(List<MsrEntry> msrs) { }
    @Override public void setCpuid(List<CpuidEntry> entries) { }
    /** Identity paging below 1 MiB; nothing mapped above. */
    @Override public long translate(long linearAddress) { return linearAddress < (1 << 20) ? linearAddress : -1; }
    @Override public void setGuestDebug(GuestDebug d) { debug = d; }
    @Override public void close() { closed = true; }
}
