package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jhyve.hv.HypervisorException;

/**
 * For a VM without an in-kernel irqchip: the MSRs of the local APIC jhyve emulates exit to userspace as
 * KVM_EXIT_X86_RDMSR/WRMSR instead of reaching KVM, which has no APIC to give them to.
 *
 * <p>Two mechanisms, both needed. The MSR filter denies KVM the three ranges jhyve owns: IA32_APIC_BASE
 * (0x1B; KVM would keep its own copy), IA32_TSC_DEADLINE (0x6E0; KVM silently drops writes without its
 * APIC) and the x2APIC registers (0x800-0x8FF). Newer kernels ignore filters on the x2APIC range, so the exit
 * reasons also include "invalid" and "unknown": KVM without its APIC refuses those MSRs, and a refused MSR exits
 * too. The cost: every MSR KVM refuses reaches jhyve, which answers #GP for the ones it does not own, as KVM
 * would have.
 */
final class UserspaceMsrs {
    private UserspaceMsrs() {}

    /** The ranges denied to KVM: {base, count}. */
    private static final int[][] OWNED = {{0x1b, 1}, {0x6e0, 1}, {0x800, 0x100}};

    static void route(KvmSystem system, int vmFd) {
        if (system.checkExtension(KvmCap.X86_USER_SPACE_MSR) <= 0 || system.checkExtension(KvmCap.X86_MSR_FILTER) <= 0) {
            throw new HypervisorException("this KVM cannot hand MSRs to userspace (KVM_CAP_X86_USER_SPACE_MSR, KVM_CAP_X86_MSR_FILTER): "
                    + "--irqchip userspace needs Linux 5.10 or later");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = arena.allocate(KvmStructs.KVM_ENABLE_CAP);
            cap.set(JAVA_INT, KvmStructs.ENABLE_CAP_CAP, KvmCap.X86_USER_SPACE_MSR.number);
            cap.set(JAVA_LONG, KvmStructs.ENABLE_CAP_ARGS,
                    KvmAbi.MSR_EXIT_REASON_INVAL | KvmAbi.MSR_EXIT_REASON_UNKNOWN | KvmAbi.MSR_EXIT_REASON_FILTER);
            HostCalls.ioctl(vmFd, KvmAbi.ENABLE_CAP, cap);

            MemorySegment filter = arena.allocate(KvmStructs.KVM_MSR_FILTER);
            filter.set(JAVA_INT, 0, 0); // KVM_MSR_FILTER_DEFAULT_ALLOW: every other MSR stays KVM's
            for (int i = 0; i < OWNED.length; i++) {
                long range = KvmStructs.MSR_FILTER_RANGES + i * KvmStructs.KVM_MSR_FILTER_RANGE.byteSize();
                int count = OWNED[i][1];
                // A clear bit denies the MSR to KVM: an all-zero bitmap hands the whole range to userspace.
                MemorySegment bitmap = arena.allocate((count + 7) / 8, 8);
                filter.set(JAVA_INT, range + KvmStructs.MSR_RANGE_FLAGS, KvmAbi.MSR_FILTER_READ | KvmAbi.MSR_FILTER_WRITE);
                filter.set(JAVA_INT, range + KvmStructs.MSR_RANGE_NMSRS, count);
                filter.set(JAVA_INT, range + KvmStructs.MSR_RANGE_BASE, OWNED[i][0]);
                filter.set(JAVA_LONG, range + KvmStructs.MSR_RANGE_BITMAP, bitmap.address());
            }
            HostCalls.ioctl(vmFd, KvmAbi.X86_SET_MSR_FILTER, filter);
        }
    }
}
