package org.jhyve.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.HypervisorException;
import org.jhyve.posix.Errno;
import org.jhyve.posix.Libc;

/**
 * The {@code /dev/kvm} file descriptor: system-wide queries and VM creation. Opening it checks the API
 * version and every capability jhyve relies on, failing with one exception that names all that are missing.
 */
public final class KvmSystem implements AutoCloseable {
    /** The KVM device node. */
    public static final String DEVICE = "/dev/kvm";

    private final int fd;
    private final int vcpuMmapSize;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final HostCpu hostCpu = HostCpu.read();

    /** The host CPU KVM runs on. */
    HostCpu hostCpu() {
        return hostCpu;
    }

    private KvmSystem(int fd) {
        this.fd = fd;
        int version = HostCalls.ioctl(fd, KvmAbi.GET_API_VERSION, 0);
        if (version != KvmAbi.API_VERSION) {
            throw new HypervisorException("KVM API version is " + version + ", jhyve needs " + KvmAbi.API_VERSION);
        }
        List<KvmCap> missing = KvmCap.missing(this::checkExtension);
        if (!missing.isEmpty()) {
            throw new HypervisorException("KVM on this host lacks capabilities jhyve needs: "
                    + missing.stream().map(KvmCap::kernelName).collect(Collectors.joining(", ")));
        }
        this.vcpuMmapSize = HostCalls.ioctl(fd, KvmAbi.GET_VCPU_MMAP_SIZE, 0);
        if (vcpuMmapSize < KvmStructs.KVM_RUN.byteSize()) {
            throw new HypervisorException("KVM_GET_VCPU_MMAP_SIZE is " + vcpuMmapSize + ", smaller than struct kvm_run ("
                    + KvmStructs.KVM_RUN.byteSize() + ")");
        }
    }

    /** Opens {@link #DEVICE} read-write and checks it. */
    public static KvmSystem open() {
        return open(DEVICE);
    }

    static KvmSystem open(String path) {
        int fd = HostCalls.open(path, Libc.O_RDWR | Libc.O_CLOEXEC);
        try {
            return new KvmSystem(fd);
        } catch (RuntimeException e) {
            HostCalls.close(fd);
            throw e;
        }
    }

    int fd() {
        return fd;
    }

    /** KVM_GET_API_VERSION (always 12 once opened). */
    public int apiVersion() {
        return HostCalls.ioctl(fd, KvmAbi.GET_API_VERSION, 0);
    }

    /** KVM_CHECK_EXTENSION: 0 when absent, else 1 or a capability-specific count. */
    public int checkExtension(int capability) {
        return HostCalls.ioctl(fd, KvmAbi.CHECK_EXTENSION, capability);
    }

    int checkExtension(KvmCap cap) {
        return checkExtension(cap.number);
    }

    /** Recommended vCPUs per VM (KVM_CAP_NR_VCPUS). */
    public int recommendedVcpus() {
        return checkExtension(KvmCap.NR_VCPUS);
    }

    /** Maximum vCPUs per VM (KVM_CAP_MAX_VCPUS). */
    public int maxVcpus() {
        return checkExtension(KvmCap.MAX_VCPUS);
    }

    /** Bytes to mmap from a vCPU fd: {@code kvm_run} plus the PIO data page and the coalesced-MMIO ring. */
    public int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    /**
     * KVM_GET_SUPPORTED_CPUID: the CPUID leaves KVM can present. The caller must say how many entries it
     * has room for; KVM answers E2BIG when that is too few, so the room doubles until it fits.
     */
    public List<CpuidEntry> supportedCpuid() {
        for (int capacity = KvmAbi.CPUID_ENTRIES_INITIAL; ; capacity *= 2) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cpuid = CpuidCodec.allocate(arena, capacity);
                try {
                    HostCalls.ioctl(fd, KvmAbi.GET_SUPPORTED_CPUID, cpuid);
                    return CpuidCodec.decode(cpuid);
                } catch (HypervisorException e) {
                    if (e.errno() != Errno.E2BIG || capacity >= KvmAbi.CPUID_ENTRIES_MAX) throw e;
                }
            }
        }
    }

    /** KVM_CREATE_VM (machine type 0): the new VM's file descriptor, owned by the caller. */
    int createVmFd() {
        return HostCalls.ioctl(fd, KvmAbi.CREATE_VM, 0);
    }

    /** Closes {@code /dev/kvm}; VMs already created live on through their own descriptors. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) HostCalls.close(fd);
    }
}
