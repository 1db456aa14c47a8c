package org.jhyve.kvm;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.HypervisorException;
import org.jhyve.hv.VmSpec;
import org.jhyve.posix.Errno;

/**
 * The KVM {@link Hypervisor}: {@code /dev/kvm}, checked on open, creating {@link KvmVm}s.
 * Closing it closes {@code /dev/kvm}; VMs already created stay usable until closed themselves.
 */
public final class KvmHypervisor implements Hypervisor {
    private final KvmSystem system;
    private final List<CpuidEntry> supportedCpuid;
    private final AtomicBoolean closed = new AtomicBoolean();

    private KvmHypervisor(KvmSystem system) {
        this.system = system;
        this.supportedCpuid = system.supportedCpuid();
        // Install the kick handler now rather than on a vCPU thread's first kick: one place to fail, early.
        KickSignal.ensureInstalled();
    }

    /** Opens {@code /dev/kvm}; throws {@link HypervisorException} saying what is missing or not allowed. */
    public static KvmHypervisor open() {
        KvmSystem system = KvmSystem.open();
        try {
            return new KvmHypervisor(system);
        } catch (RuntimeException | Error e) {
            system.close();
            throw e;
        }
    }

    /** True when {@link #open()} would succeed. Opens and closes {@code /dev/kvm} to find out. */
    public static boolean isAvailable() {
        return unavailableReason().isEmpty();
    }

    /** Why KVM cannot be used here (for skipping tests with a clear message), or empty if it can. */
    public static Optional<String> unavailableReason() {
        try {
            KvmSystem.open().close();
            return Optional.empty();
        } catch (HypervisorException e) {
            String hint = switch (e.errno()) {
                case Errno.ENOENT -> " (no KVM on this host: is the kvm module loaded, or is this a VM without nested virtualisation?)";
                case Errno.EACCES -> " (no permission: add the user to the group that owns " + KvmSystem.DEVICE + ", usually kvm)";
                default -> "";
            };
            return Optional.of(e.getMessage() + hint);
        }
    }

    @Override
    public String name() {
        return "kvm";
    }

    /** From the host CPU's flags: false on KVM's PVM flavour, which emulates guest kernel code. */
    @Override
    public boolean hasHardwareVirtualization() {
        return system.hostCpu().hasHardwareVirtualization();
    }

    /** The {@code /dev/kvm} wrapper, for capability queries. */
    public KvmSystem system() {
        return system;
    }

    @Override
    public KvmVm createVm(VmSpec spec) {
        if (closed.get()) throw new IllegalStateException("hypervisor is closed");
        return KvmVm.create(system, spec, supportedCpuid);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) system.close();
    }
}
