package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.GuestDebug;
import org.jhyve.hv.HypervisorException;
import org.jhyve.hv.InterruptInjection;
import org.jhyve.hv.InterruptPlatform;
import java.util.Optional;
import org.jhyve.hv.MsrEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;
import org.jhyve.posix.Errno;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Scratch;
import org.jhyve.posix.Signals;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KVM vCPU file descriptor and its mmap'd {@code kvm_run} area (owned by the vCPU's shared arena, so that
 * {@link #kick()} can write it from another thread).
 *
 * <p>Kicking: {@link #kick()} sets {@code kvm_run.immediate_exit}, then signals the vCPU thread if it is
 * inside {@link #run()}. The flag covers a kick that lands before the thread enters KVM_RUN (KVM checks it on
 * entry and fails with EINTR at once); the signal covers a thread already in the guest. The flag is written
 * before the thread id is read, and {@code run()} publishes the thread id before entering KVM_RUN, both with
 * volatile accesses: so either the kicker sees the id and signals, or KVM sees the flag. Once {@code run()}
 * has returned {@link VmExit.Interrupted} it clears the flag, so the next run proceeds.
 */
public final class KvmVcpu implements Vcpu, InterruptInjection {
    private static final Logger log = LoggerFactory.getLogger(KvmVcpu.class);
    private static final VarHandle BYTE = JAVA_BYTE.varHandle();

    /** {@link #getMpState()} values, as in {@code <linux/kvm.h>}. */
    public static final int MP_STATE_RUNNABLE = KvmAbi.MP_STATE_RUNNABLE;
    public static final int MP_STATE_UNINITIALIZED = KvmAbi.MP_STATE_UNINITIALIZED;
    public static final int MP_STATE_INIT_RECEIVED = KvmAbi.MP_STATE_INIT_RECEIVED;
    public static final int MP_STATE_HALTED = KvmAbi.MP_STATE_HALTED;
    public static final int MP_STATE_SIPI_RECEIVED = KvmAbi.MP_STATE_SIPI_RECEIVED;

    private final KvmVm vm;
    private final int index;
    private final int fd;
    private final Arena arena;
    private final MemorySegment run;
    /** errno of KVM_RUN; used only by the vCPU thread. */
    private final Scratch runScratch = Scratch.allocate();
    private final int pid;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Kernel thread id of the thread inside {@link #run()}, 0 when none is. */
    private volatile int runningTid;
    /** Whether KVM takes KVM_GUESTDBG_BLOCKIRQ (5.16+); cleared on the first EINVAL. Used only by the vCPU thread. */
    private boolean blockIrqWhileStepping = true;
    /** The guest TSC's rate in Hz once {@link #tscHz()} has asked KVM, else 0; the vCPU's thread only. */
    private long tscHz;
    /** Answers MSR exits in {@code kvm_run}; null on a VM with an in-kernel irqchip, which has none. */
    private final VmExit.MsrReply msrReply;
    /** The last thread that called run(), and its tid; touched only by that thread. */
    private Thread runThread;
    private int runThreadTid;

    @SuppressWarnings("restricted") // sizing the raw mmap result; the length is the one just mapped
    private KvmVcpu(KvmVm vm, int index, int fd) {
        this.vm = vm;
        this.index = index;
        this.fd = fd;
        this.pid = Signals.getpid();
        this.arena = Arena.ofShared();
        try {
            long size = vm.vcpuMmapSize();
            MemorySegment address = HostCalls.mmap(size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
            this.run = address.reinterpret(size, arena, s -> unmap(s, size));
            this.msrReply = vm.interruptPlatform() == InterruptPlatform.USERSPACE ? new RunAreaMsrReply(run) : null;
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    static KvmVcpu create(KvmVm vm, int index) {
        KickSignal.ensureInstalled();
        int fd = HostCalls.ioctl(vm.fd(), KvmAbi.CREATE_VCPU, index);
        KvmVcpu vcpu;
        try {
            vcpu = new KvmVcpu(vm, index, fd);
        } catch (RuntimeException | Error e) {
            HostCalls.close(fd);
            throw e;
        }
        try {
            // A vCPU with no CPUID at all shows the guest an empty leaf 0; start from what KVM supports.
            List<CpuidEntry> cpuid = CpuidDefaults.forVcpu(vm.supportedCpuid(), index, vm.topology(), vm.cpuidTemplate());
            vcpu.setCpuid(vm.interruptPlatform() == InterruptPlatform.USERSPACE ? UserspaceApicCpuid.apply(cpuid) : cpuid);
            FirmwareDefaults.apply(vcpu, fd, vm.interruptPlatform() == InterruptPlatform.IN_KERNEL);
        } catch (RuntimeException | Error e) {
            vcpu.close();
            throw e;
        }
        return vcpu;
    }

    /** The vCPU fd, for the package's own ioctl helpers. */
    int fd() {
        return fd;
    }

    @Override
    public int index() {
        return index;
    }

    /**
     * KVM_RUN until an exit userspace must handle. EAGAIN (a vCPU waiting for its startup IPI) is retried;
     * EINTR (a signal or {@link #kick()}) is {@link VmExit.Interrupted}. Must run on a platform thread:
     * the kick signal goes to a kernel thread, and a virtual thread may change carriers between runs.
     */
    @Override
    public VmExit run() {
        if (closed.get()) throw new IllegalStateException("vCPU " + index + " is closed");
        Thread current = Thread.currentThread();
        if (current != runThread) adoptThread(current);
        runningTid = runThreadTid;
        try {
            while (true) {
                int r = Libc.ioctl(runScratch, fd, KvmAbi.RUN.number(), 0L);
                if (r >= 0) {
                    VmExit exit = ExitDecoder.decode(run, msrReply);
                    if (exit instanceof VmExit.Interrupted) clearImmediateExit();
                    return exit;
                }
                int err = runScratch.errno();
                if (err == Errno.EINTR) {
                    clearImmediateExit();
                    return ExitDecoder.interrupted();
                }
                if (err != Errno.EAGAIN) throw HostCalls.ioctlFailed(KvmAbi.RUN, err);
            }
        } finally {
            runningTid = 0;
        }
    }

    private void adoptThread(Thread current) {
        if (current.isVirtual()) throw new IllegalStateException("vCPU " + index + " must run on a platform thread");
        runThread = current;
        runThreadTid = Signals.gettid();
        // In case this thread inherited a mask that blocks the kick signal: a blocked signal never interrupts KVM_RUN.
        HostCalls.unblockSignal(KickSignal.SIGNAL);
    }

    private void clearImmediateExit() {
        BYTE.setVolatile(run, KvmStructs.RUN_IMMEDIATE_EXIT, (byte) 0);
    }

    /** Makes the current or next {@link #run()} return {@link VmExit.Interrupted}; any thread. */
    @Override
    public void kick() {
        if (closed.get()) return;
        try {
            BYTE.setVolatile(run, KvmStructs.RUN_IMMEDIATE_EXIT, (byte) 1);
        } catch (IllegalStateException closedMeanwhile) {
            return;
        }
        int tid = runningTid;
        if (tid == 0) return;
        int err = Signals.tgkill(pid, tid, KickSignal.SIGNAL);
        // ESRCH: the thread has gone; immediate_exit still stops its next run.
        if (err != 0 && err != Errno.ESRCH) log.warn("kicking vCPU {} (tid {}): {}", index, tid, Errno.describe(err));
    }

    /** True while a thread is inside {@link #run()}. */
    boolean isRunning() {
        return runningTid != 0;
    }

    /** The {@code kvm_run} area, for tests. */
    MemorySegment runArea() {
        return run;
    }

    @Override
    public Registers getRegisters() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_REGS);
            HostCalls.ioctl(fd, KvmAbi.GET_REGS, s);
            return RegsCodec.read(s);
        }
    }

    @Override
    public void setRegisters(Registers regs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_REGS);
            RegsCodec.write(s, regs);
            HostCalls.ioctl(fd, KvmAbi.SET_REGS, s);
        }
    }

    @Override
    public SpecialRegisters getSpecialRegisters() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_SREGS);
            HostCalls.ioctl(fd, KvmAbi.GET_SREGS, s);
            return SregsCodec.read(s);
        }
    }

    /** Reads first, so the pending-interrupt bitmap (not part of {@link SpecialRegisters}) is written back unchanged. */
    @Override
    public void setSpecialRegisters(SpecialRegisters sregs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_SREGS);
            HostCalls.ioctl(fd, KvmAbi.GET_SREGS, s);
            SregsCodec.write(s, sregs);
            HostCalls.ioctl(fd, KvmAbi.SET_SREGS, s);
        }
    }

    /**
     * KVM_GET_FPU, with MXCSR taken from KVM_GET_XSAVE: on hosts where KVM has no VMX/SVM (the PVM flavour)
     * kvm_fpu's mxcsr field reads 0 and is not applied, while the XSAVE image carries the real value.
     */
    @Override
    public FpuState getFpu() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_FPU);
            HostCalls.ioctl(fd, KvmAbi.GET_FPU, s);
            FpuState fpu = FpuCodec.read(s);
            MemorySegment xsave = a.allocate(KvmAbi.XSAVE_SIZE, 64);
            HostCalls.ioctl(fd, KvmAbi.GET_XSAVE, xsave);
            return fpu.withMxcsr(xsave.get(JAVA_INT, KvmAbi.XSAVE_MXCSR));
        }
    }

    /** KVM_SET_FPU, then MXCSR through the XSAVE image (see {@link #getFpu()}). */
    @Override
    public void setFpu(FpuState fpu) {
        try (Arena a = Arena.ofConfined()) {
            // MXCSR first, through the XSAVE image; then KVM_SET_FPU for the rest, which (where it ignores
            // mxcsr) leaves that value alone. The other order loses the XMM registers SET_FPU just wrote.
            MemorySegment xsave = a.allocate(KvmAbi.XSAVE_SIZE, 64);
            HostCalls.ioctl(fd, KvmAbi.GET_XSAVE, xsave);
            xsave.set(JAVA_INT, KvmAbi.XSAVE_MXCSR, fpu.mxcsr());
            // XRSTOR only loads MXCSR from the image when SSE (or AVX) state is marked present.
            xsave.set(JAVA_LONG, KvmAbi.XSAVE_XSTATE_BV, xsave.get(JAVA_LONG, KvmAbi.XSAVE_XSTATE_BV) | 0x2);
            HostCalls.ioctl(fd, KvmAbi.SET_XSAVE, xsave);
            MemorySegment s = a.allocate(KvmStructs.KVM_FPU);
            FpuCodec.write(s, fpu);
            HostCalls.ioctl(fd, KvmAbi.SET_FPU, s);
        }
    }

    /**
     * KVM_GET_MSRS reads in order and stops at the first MSR it refuses, returning how many it read;
     * the refused one is skipped and the rest asked for again.
     */
    @Override
    public List<MsrEntry> getMsrs(List<Integer> indexes) {
        List<MsrEntry> result = new ArrayList<>(indexes.size());
        List<MsrEntry> pending = new ArrayList<>(indexes.size());
        for (int i : indexes) pending.add(new MsrEntry(i, 0));
        while (!pending.isEmpty()) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = MsrCodec.encode(a, pending);
                int n = HostCalls.ioctl(fd, KvmAbi.GET_MSRS, s);
                result.addAll(MsrCodec.decode(s, n));
                if (n < pending.size()) log.debug("vCPU {}: KVM refused to read MSR 0x{}", index, Integer.toHexString(pending.get(n).index()));
                pending = pending.subList(Math.min(n + 1, pending.size()), pending.size());
            }
        }
        return List.copyOf(result);
    }

    @Override
    public void setMsrs(List<MsrEntry> msrs) {
        try (Arena a = Arena.ofConfined()) {
            int n = HostCalls.ioctl(fd, KvmAbi.SET_MSRS, MsrCodec.encode(a, msrs));
            if (n < msrs.size()) {
                MsrEntry refused = msrs.get(n);
                throw new HypervisorException(String.format("KVM_SET_MSRS refused MSR 0x%x = 0x%x (vCPU %d)",
                        refused.index(), refused.value(), index));
            }
        }
    }

    /** KVM_SET_CPUID2; KVM accepts it only before the first KVM_RUN (or with identical contents). */
    @Override
    public void setCpuid(List<CpuidEntry> entries) {
        try (Arena a = Arena.ofConfined()) {
            HostCalls.ioctl(fd, KvmAbi.SET_CPUID2, CpuidCodec.encode(a, entries));
        }
    }

    @Override
    public long translate(long linearAddress) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_TRANSLATION);
            s.set(JAVA_LONG, KvmStructs.TRANSLATION_LINEAR, linearAddress);
            HostCalls.ioctl(fd, KvmAbi.TRANSLATE, s);
            return s.get(JAVA_BYTE, KvmStructs.TRANSLATION_VALID) != 0 ? s.get(JAVA_LONG, KvmStructs.TRANSLATION_PHYSICAL) : -1;
        }
    }

    /**
     * KVM_GET/SET_VCPU_EVENTS with the exception marked injected. Flags are cleared on the way back so
     * the optional fields (NMI, SIPI vector, shadow, SMM) are left as KVM has them.
     */
    @Override
    public void injectException(int vector, int errorCode) {
        if (vector < 0 || vector > 31) throw new IllegalArgumentException("exception vector must be 0-31: " + vector);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_VCPU_EVENTS);
            HostCalls.ioctl(fd, KvmAbi.GET_VCPU_EVENTS, s);
            s.set(JAVA_BYTE, KvmStructs.EVENTS_EXCEPTION_INJECTED, (byte) 1);
            s.set(JAVA_BYTE, KvmStructs.EVENTS_EXCEPTION_NR, (byte) vector);
            s.set(JAVA_BYTE, KvmStructs.EVENTS_EXCEPTION_HAS_ERROR_CODE, (byte) (errorCode >= 0 ? 1 : 0));
            s.set(JAVA_INT, KvmStructs.EVENTS_EXCEPTION_ERROR_CODE, Math.max(errorCode, 0));
            s.set(JAVA_INT, KvmStructs.EVENTS_FLAGS, 0);
            HostCalls.ioctl(fd, KvmAbi.SET_VCPU_EVENTS, s);
        }
    }

    /**
     * KVM_GET/SET_VCPU_EVENTS with an interrupt marked injected: KVM delivers it on the next entry whatever RFLAGS.IF
     * says, as it re-injects an event whose delivery an exit interrupted. It goes as an external interrupt, not
     * "soft": a soft one would need the instruction length of an exit KVM did not take.
     */
    @Override
    public void injectSoftwareInterrupt(int vector) {
        if (vector < 0 || vector > 255) throw new IllegalArgumentException("interrupt vector must be 0-255: " + vector);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_VCPU_EVENTS);
            HostCalls.ioctl(fd, KvmAbi.GET_VCPU_EVENTS, s);
            s.set(JAVA_BYTE, KvmStructs.EVENTS_INTERRUPT, (byte) 1);
            s.set(JAVA_BYTE, KvmStructs.EVENTS_INTERRUPT + 1, (byte) vector);
            s.set(JAVA_BYTE, KvmStructs.EVENTS_INTERRUPT + 2, (byte) 0);
            s.set(JAVA_INT, KvmStructs.EVENTS_FLAGS, 0);
            HostCalls.ioctl(fd, KvmAbi.SET_VCPU_EVENTS, s);
        }
    }

    /**
     * KVM_SET_GUEST_DEBUG. A single step also asks KVM to hold interrupts back (BLOCKIRQ), so that a step
     * lands on the next instruction of the code being debugged rather than in an interrupt handler; a kernel
     * without that flag (before 5.16) refuses it with EINVAL, and is asked again without it.
     */
    @Override
    public void setGuestDebug(GuestDebug debug) {
        int control = 0;
        if (debug.enabled()) {
            control = KvmAbi.GUESTDBG_ENABLE;
            if (debug.singleStep()) control |= KvmAbi.GUESTDBG_SINGLESTEP;
            if (debug.softwareBreakpoints()) control |= KvmAbi.GUESTDBG_USE_SW_BP;
            if (!debug.hardware().isEmpty()) control |= KvmAbi.GUESTDBG_USE_HW_BP;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_GUEST_DEBUG);
            for (int i = 0; i < debug.hardware().size(); i++) {
                s.set(JAVA_LONG, KvmStructs.GUEST_DEBUG_REGS + i * 8L, debug.hardware().get(i).address());
            }
            if (!debug.hardware().isEmpty()) s.set(JAVA_LONG, KvmStructs.GUEST_DEBUG_REGS + 7 * 8L, debug.debugControl());
            if (debug.singleStep() && blockIrqWhileStepping) {
                s.set(JAVA_INT, KvmStructs.GUEST_DEBUG_CONTROL, control | KvmAbi.GUESTDBG_BLOCKIRQ);
                try {
                    HostCalls.ioctl(fd, KvmAbi.SET_GUEST_DEBUG, s);
                    return;
                } catch (HypervisorException e) {
                    if (e.errno() != Errno.EINVAL) throw e;
                    log.debug("vCPU {}: KVM does not take KVM_GUESTDBG_BLOCKIRQ; single steps may enter interrupt handlers", index);
                    blockIrqWhileStepping = false;
                }
            }
            s.set(JAVA_INT, KvmStructs.GUEST_DEBUG_CONTROL, control);
            HostCalls.ioctl(fd, KvmAbi.SET_GUEST_DEBUG, s);
        }
    }

    /** Halted, or an application processor still waiting for INIT/SIPI, in KVM's in-kernel local APIC. */
    @Override
    public boolean isParked() {
        // Without an in-kernel APIC KVM keeps no halt or wait-for-SIPI state: jhyve's platform does.
        if (msrReply != null) return false;
        int state = getMpState();
        return state == MP_STATE_HALTED || state == MP_STATE_UNINITIALIZED || state == MP_STATE_INIT_RECEIVED;
    }

    /** KVM_GET_MP_STATE: one of the {@code MP_STATE_*} values. */
    public int getMpState() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_MP_STATE);
            HostCalls.ioctl(fd, KvmAbi.GET_MP_STATE, s);
            return s.get(JAVA_INT, 0);
        }
    }

    public void setMpState(int state) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_MP_STATE);
            s.set(JAVA_INT, 0, state);
            HostCalls.ioctl(fd, KvmAbi.SET_MP_STATE, s);
        }
    }

    // ---- the userspace interrupt platform's side (InterruptInjection) ----

    @Override
    public Optional<InterruptInjection> interruptInjection() {
        return msrReply == null ? Optional.empty() : Optional.of(this);
    }

    /** {@code kvm_run.ready_for_interrupt_injection}: IF set and no interrupt shadow, as of the last exit. */
    @Override
    public boolean canInjectInterrupt() {
        return run.get(JAVA_BYTE, KvmStructs.RUN_READY_FOR_INTERRUPT_INJECTION) != 0;
    }

    @Override
    public void injectInterrupt(int vector) {
        try (Arena a = Arena.ofConfined()) {
            HostCalls.ioctl(fd, KvmAbi.INTERRUPT, a.allocateFrom(JAVA_INT, vector & 0xff));
        }
    }

    @Override
    public void requestInterruptWindow(boolean request) {
        run.set(JAVA_BYTE, KvmStructs.RUN_REQUEST_INTERRUPT_WINDOW, (byte) (request ? 1 : 0));
    }

    @Override
    public void injectNmi() {
        HostCalls.ioctl(fd, KvmAbi.NMI, 0L);
    }

    /** Without an in-kernel APIC, KVM reports CR8 in {@code kvm_run} at each exit and loads it from there at each entry. */
    @Override
    public int cr8() {
        return (int) (run.get(JAVA_LONG, KvmStructs.RUN_CR8) & 0xf);
    }

    @Override
    public void setCr8(int value) {
        run.set(JAVA_LONG, KvmStructs.RUN_CR8, value & 0xf);
    }

    /**
     * KVM_GET_TSC_KHZ, asked once: jhyve never changes a vCPU's TSC rate (no KVM_SET_TSC_KHZ), and the guest's APIC
     * asks for it at every TSC-deadline write.
     */
    @Override
    public long tscHz() {
        if (tscHz == 0) tscHz = HostCalls.ioctl(fd, KvmAbi.GET_TSC_KHZ, 0L) * 1000L;
        return tscHz;
    }

    @Override
    public long guestTsc() {
        List<MsrEntry> tsc = getMsrs(List.of(IA32_TSC));
        if (tsc.isEmpty()) throw new HypervisorException("KVM refused to read the guest's TSC");
        return tsc.getFirst().value();
    }

    private static final int IA32_TSC = 0x10;

    /** Writes the answer to an MSR exit where KVM reads it on the next KVM_RUN. */
    private record RunAreaMsrReply(MemorySegment run) implements VmExit.MsrReply {
        @Override
        public void complete(long value) {
            run.set(JAVA_BYTE, KvmStructs.RUN_MSR_ERROR, (byte) 0);
            run.set(JAVA_LONG, KvmStructs.RUN_MSR_DATA, value);
        }

        @Override
        public void fault() {
            run.set(JAVA_BYTE, KvmStructs.RUN_MSR_ERROR, (byte) 1);
        }
    }

    /** Unmaps {@code kvm_run} and closes the vCPU fd; idempotent. Not while a thread is inside {@link #run()}. */
    @Override
    public void close() {
        if (runningTid != 0) throw new IllegalStateException("vCPU " + index + " is running: kick it and let run() return first");
        if (!closed.compareAndSet(false, true)) return;
        try {
            arena.close();
        } finally {
            HostCalls.close(fd);
            vm.forget(this);
        }
    }

    private static void unmap(MemorySegment address, long size) {
        try {
            HostCalls.munmap(address, size);
        } catch (RuntimeException e) {
            log.warn("could not unmap a kvm_run area", e);
        }
    }
}
