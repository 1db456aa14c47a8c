package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.CpuidModifier;
import org.jhyve.hv.Doorbell;
import org.jhyve.hv.HypervisorException;
import org.jhyve.hv.HypervisorVm;
import org.jhyve.hv.InterruptPlatform;
import org.jhyve.hv.CpuTopology;
import org.jhyve.hv.VmSpec;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.MappingLifetime;
import org.jhyve.memory.SegmentGuestMemory;
import org.jhyve.posix.Errno;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Scratch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KVM VM file descriptor, set up as a PC: real-mode TSS and identity-map addresses, in-kernel
 * PIC/IOAPIC/LAPIC (KVM_CREATE_IRQCHIP) and PIT (KVM_CREATE_PIT2), and guest RAM mapped slot by slot. With
 * {@link InterruptPlatform#USERSPACE} there is no in-kernel irqchip or PIT: the APIC's MSRs exit to jhyve
 * ({@link UserspaceMsrs}), the vCPUs inject through KVM_INTERRUPT, and {@link #setIrqLine}/{@link #signalMsi} are
 * not for use (jhyve's own platform takes the lines).
 *
 * <p>Owns its vCPUs, ioeventfds and irqfds: {@link #close()} closes whichever of them are still open, then
 * the VM fd, then unmaps guest RAM (the VM's shared arena) unless a device thread still holds it. Lifecycle methods synchronise on the VM;
 * {@link #setIrqLine} and {@link #signalMsi} do not (they share a read lock with each other), so device threads
 * can raise interrupts without contention.
 */
public final class KvmVm implements HypervisorVm {
    private static final Logger log = LoggerFactory.getLogger(KvmVm.class);

    private final int fd;
    private final VmSpec spec;
    private final int vcpuMmapSize;
    private final List<CpuidEntry> supportedCpuid;
    private final Arena ramArena;
    /** Closes {@link #ramArena} once the VM is closed and no device thread holds guest RAM. */
    private final MappingLifetime ramLifetime;
    private final SegmentGuestMemory memory;
    private final boolean emulationFailureExits;
    private final KvmVcpu[] vcpus;
    private final Set<AutoCloseable> eventFds = new LinkedHashSet<>();
    /**
     * Interrupt delivery from device threads ({@link #setIrqLine}, {@link #signalMsi}) holds the read side while it
     * uses the VM fd; {@link #close} takes the write side to close it, so no ioctl can reach a recycled fd number
     * (another VM's, in a program that runs several). Device threads do not contend with each other.
     */
    private final ReentrantReadWriteLock fdLock = new ReentrantReadWriteLock();
    private final AtomicLong misroutedMsis = new AtomicLong();
    private volatile boolean closed;

    private KvmVm(KvmSystem system, VmSpec spec, List<CpuidEntry> supportedCpuid, int fd) {
        this.fd = fd;
        this.spec = spec;
        this.vcpuMmapSize = system.vcpuMmapSize();
        this.supportedCpuid = supportedCpuid;
        this.vcpus = new KvmVcpu[spec.vcpus()];
        this.ramArena = Arena.ofShared();
        this.ramLifetime = new MappingLifetime(ramArena::close);
        try {
            // Both before any vCPU exists: KVM on VMX needs them to run real mode; elsewhere they are harmless.
            HostCalls.ioctl(fd, KvmAbi.SET_TSS_ADDR, KvmAbi.TSS_ADDRESS);
            if (system.checkExtension(KvmCap.SET_IDENTITY_MAP_ADDR) > 0) setIdentityMapAddress();
            if (spec.interrupts() == InterruptPlatform.IN_KERNEL) {
                HostCalls.ioctl(fd, KvmAbi.CREATE_IRQCHIP, 0);
                createPit();
            } else {
                UserspaceMsrs.route(system, fd);
            }
            this.emulationFailureExits = system.checkExtension(KvmCap.EXIT_ON_EMULATION_FAILURE) > 0
                    && system.checkExtension(KvmCap.ENABLE_CAP_VM) > 0;
            if (emulationFailureExits) enableCap(KvmCap.EXIT_ON_EMULATION_FAILURE, 1);
            this.memory = GuestRam.map(ramArena, ramLifetime, spec.memoryBytes());
            // Wired before KVM sees the slots: every page is faulted in and locked now, not when the guest touches it.
            if (spec.wiredMemory()) memory.regions().forEach(r -> HostCalls.mlock(r.host(), r.size()));
            GuestRam.register(fd, memory.regions());
        } catch (RuntimeException | Error e) {
            ramArena.close();
            throw e;
        }
        log.debug("VM fd {}: {} bytes of RAM in {} slots, {} vCPUs", fd, spec.memoryBytes(), memory.regions().size(), spec.vcpus());
    }

    /** KVM_CREATE_VM and the PC setup; the VM fd is closed again if any step fails. */
    static KvmVm create(KvmSystem system, VmSpec spec, List<CpuidEntry> supportedCpuid) {
        int max = system.maxVcpus();
        if (spec.vcpus() > max) throw new HypervisorException("KVM allows at most " + max + " vCPUs per VM, asked for " + spec.vcpus());
        int recommended = system.recommendedVcpus();
        if (spec.vcpus() > recommended) log.warn("{} vCPUs is more than the {} KVM recommends on this host", spec.vcpus(), recommended);
        int fd = system.createVmFd();
        try {
            return new KvmVm(system, spec, supportedCpuid, fd);
        } catch (RuntimeException | Error e) {
            HostCalls.close(fd);
            throw e;
        }
    }

    private void setIdentityMapAddress() {
        try (Arena arena = Arena.ofConfined()) {
            HostCalls.ioctl(fd, KvmAbi.SET_IDENTITY_MAP_ADDR, arena.allocateFrom(JAVA_LONG, KvmAbi.IDENTITY_MAP_ADDRESS));
        }
    }

    /**
     * PIT with the dummy speaker port: KVM then answers port 0x61 itself, including the PIT channel 2 output
     * bit that Linux polls to calibrate the TSC, which a userspace 0x61 could not know (Firecracker does the same).
     */
    private void createPit() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment config = arena.allocate(KvmStructs.KVM_PIT_CONFIG);
            config.set(JAVA_INT, KvmStructs.PIT_CONFIG_FLAGS, KvmAbi.PIT_SPEAKER_DUMMY);
            HostCalls.ioctl(fd, KvmAbi.CREATE_PIT2, config);
        }
    }

    private void enableCap(KvmCap cap, long arg0) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmStructs.KVM_ENABLE_CAP);
            s.set(JAVA_INT, KvmStructs.ENABLE_CAP_CAP, cap.number);
            s.set(JAVA_LONG, KvmStructs.ENABLE_CAP_ARGS, arg0);
            HostCalls.ioctl(fd, KvmAbi.ENABLE_CAP, s);
        }
    }

    int fd() {
        return fd;
    }

    int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    /** True when KVM reports emulation failures with the instruction bytes (KVM_CAP_EXIT_ON_EMULATION_FAILURE). */
    public boolean reportsEmulationFailureBytes() {
        return emulationFailureExits;
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    /** The CPU template's changes to the supported CPUID, for every vCPU (see {@link CpuidDefaults}). */
    List<CpuidModifier> cpuidTemplate() {
        return spec.cpuid();
    }

    @Override
    public List<CpuidEntry> supportedCpuid() {
        return supportedCpuid;
    }

    /** KVM_CREATE_VCPU with id {@code index} (also its APIC ID), given KVM's supported CPUID to start with. */
    @Override
    public synchronized KvmVcpu createVcpu(int index) {
        ensureOpen();
        if (index < 0 || index >= vcpus.length) {
            throw new IllegalArgumentException("vCPU index " + index + " outside 0.." + (vcpus.length - 1));
        }
        if (vcpus[index] != null) throw new IllegalStateException("vCPU " + index + " already exists");
        KvmVcpu vcpu = KvmVcpu.create(this, index);
        vcpus[index] = vcpu;
        return vcpu;
    }

    /** How the VM's vCPUs are grouped: what the CPUID's topology leaves describe. */
    CpuTopology topology() {
        return spec.topology();
    }

    /** Who emulates the interrupt controllers of this VM. */
    public InterruptPlatform interruptPlatform() {
        return spec.interrupts();
    }

    /** KVM_IRQ_LINE: sets GSI {@code gsi} of the in-kernel PIC/IOAPIC to {@code level}. */
    @Override
    public void setIrqLine(int gsi, boolean level) {
        requireInKernelIrqchip();
        fdLock.readLock().lock();
        try (Arena arena = Arena.ofConfined()) {
            ensureOpen();
            MemorySegment s = arena.allocate(KvmStructs.KVM_IRQ_LEVEL);
            s.set(JAVA_INT, KvmStructs.IRQ_LEVEL_IRQ, gsi);
            s.set(JAVA_INT, KvmStructs.IRQ_LEVEL_LEVEL, level ? 1 : 0);
            HostCalls.ioctl(fd, KvmAbi.IRQ_LINE, s);
        } finally {
            fdLock.readLock().unlock();
        }
    }

    /**
     * KVM_IOEVENTFD: guest writes of {@code length} bytes (0 = any) to {@code address} in {@code space}, and
     * equal to {@code datamatch} if given, signal the returned ioeventfd's eventfd instead of exiting.
     */
    public synchronized IoEventFd registerIoEventFd(IoEventFd.Space space, long address, int length, OptionalLong datamatch) {
        ensureOpen();
        IoEventFd e = new IoEventFd(this, space, address, length, datamatch);
        eventFds.add(e);
        return e;
    }

    /**
     * KVM_SIGNAL_MSI: delivers the message {@code data} written to {@code address} through the in-kernel APIC.
     *
     * <p>The guest programmed both (MSI capability, MSI-X table), so a message that no vCPU accepts is the guest's
     * mistake: KVM then fails the ioctl with EPERM (its delivery found no destination), and the message is counted,
     * logged the first time, and dropped, as a real bus drops a write nobody claims; the device that sent it goes
     * on. Any other failure is the VMM's (a closed VM fd, a kernel without the irqchip) and throws.
     */
    @Override
    public void signalMsi(long address, int data) {
        requireInKernelIrqchip();
        fdLock.readLock().lock();
        try {
            ensureOpen();
            // struct kvm_msi and errno in the calling thread's scratch: an interrupt allocates no native memory.
            Scratch scratch = Scratch.ofThisThread();
            MemorySegment s = scratch.structs().asSlice(0, KvmStructs.KVM_MSI.byteSize()).fill((byte) 0);
            s.set(JAVA_INT, KvmStructs.MSI_ADDRESS_LO, (int) address);
            s.set(JAVA_INT, KvmStructs.MSI_ADDRESS_HI, (int) (address >>> 32));
            s.set(JAVA_INT, KvmStructs.MSI_DATA, data);
            int r;
            do {
                // 0 when the interrupt was blocked (a masked vector in the guest's APIC): not an error either.
                r = Libc.ioctl(scratch, fd, KvmAbi.SIGNAL_MSI.number(), s);
            } while (r < 0 && scratch.errno() == Errno.EINTR);
            if (r >= 0) return;
            int errno = scratch.errno();
            if (errno != Errno.EPERM) throw HostCalls.ioctlFailed(KvmAbi.SIGNAL_MSI, errno);
            misrouted(address, data);
        } finally {
            fdLock.readLock().unlock();
        }
    }

    private void misrouted(long address, int data) {
        long n = misroutedMsis.incrementAndGet();
        if (n == 1) {
            log.warn("the guest sent an MSI (address 0x{}, data 0x{}) that no vCPU accepts; dropped, and so are later ones (counted, logged at debug)",
                    Long.toHexString(address), Integer.toHexString(data));
        } else {
            log.debug("MSI to no vCPU dropped (address 0x{}, data 0x{}), {} so far", Long.toHexString(address), Integer.toHexString(data), n);
        }
    }

    /** MSIs dropped because no vCPU matched the destination the guest programmed, since the VM was created. */
    public long misroutedMsis() {
        return misroutedMsis.get();
    }

    @Override
    public Doorbell newDoorbell() {
        return new KvmDoorbell();
    }

    /** Binds {@code doorbell} (one from {@link #newDoorbell}) to guest writes of {@code length} bytes at MMIO {@code address}. */
    @Override
    public synchronized Optional<AutoCloseable> bindDoorbell(Doorbell doorbell, long address, int length) {
        if (!(doorbell instanceof KvmDoorbell kvmDoorbell)) return Optional.empty();
        ensureOpen();
        IoEventFd e = new IoEventFd(this, IoEventFd.Space.MMIO, address, length, OptionalLong.empty(), kvmDoorbell.eventFd(), false);
        eventFds.add(e);
        return Optional.of(e);
    }

    /** KVM_IRQFD: writing the returned irqfd's eventfd raises GSI {@code gsi}. */
    public synchronized IrqFd registerIrqFd(int gsi) {
        ensureOpen();
        IrqFd e = new IrqFd(this, gsi);
        eventFds.add(e);
        return e;
    }

    /** Runs {@code action} under the VM's lock if the VM fd is still open, so it cannot act on a recycled fd. */
    synchronized void whileOpen(Runnable action) {
        if (!closed) action.run();
    }

    synchronized void forget(Object child) {
        if (child instanceof KvmVcpu v) {
            if (vcpus[v.index()] == v) vcpus[v.index()] = null;
        } else {
            eventFds.remove(child);
        }
    }

    private void requireInKernelIrqchip() {
        if (spec.interrupts() != InterruptPlatform.IN_KERNEL) {
            throw new IllegalStateException("this VM has no in-kernel irqchip: its interrupts go through jhyve's userspace platform");
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("VM is closed");
    }

    /** Whether guest RAM is unmapped (the VM closed and no device thread held it, or the last one returned). */
    boolean ramUnmapped() {
        return ramLifetime.unmapped();
    }

    /**
     * Closes open vCPUs, ioeventfds and irqfds, the VM fd, then releases guest RAM. Idempotent.
     *
     * <p>Guest RAM is unmapped here only if no device thread holds it ({@link GuestMemory#hold}): a worker stuck
     * in a backend (a read the host cannot finish) may still have raw guest addresses in a preadv, and unmapping
     * under it would let the kernel write into whatever the process maps there next. Then the mapping stays,
     * one line says so, and the thread that closes the last hold unmaps it when its call returns, or never.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        for (KvmVcpu v : vcpus) {
            // Unmapping RAM under a running guest would turn into EFAULTs in KVM_RUN: stop the vCPUs first.
            if (v != null && v.isRunning()) throw new IllegalStateException("vCPU " + v.index() + " is running: kick it and let run() return first");
        }
        List<AutoCloseable> children = new ArrayList<>();
        for (KvmVcpu v : vcpus) if (v != null) children.add(v);
        children.addAll(eventFds);
        RuntimeException failure = null;
        for (AutoCloseable c : children) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) failure = new HypervisorException("closing the VM: " + e.getMessage());
                failure.addSuppressed(e);
            }
        }
        fdLock.writeLock().lock();
        try {
            closed = true;
            HostCalls.close(fd);
        } finally {
            fdLock.writeLock().unlock();
            int holding = ramLifetime.release();
            if (holding > 0) {
                log.warn("guest RAM stays mapped: {} device thread(s) using it have not returned; it is unmapped when the last returns", holding);
            }
        }
        if (failure != null) throw failure;
    }
}
