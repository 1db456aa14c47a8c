package org.jhyve.kvm;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.hv.CpuidEntry;

/**
 * The CPUID a new vCPU starts with: KVM's supported leaves with the vCPU's own APIC ID filled in,
 * which KVM leaves to userspace. Callers that want a different CPUID replace it with
 * {@link org.jhyve.hv.Vcpu#setCpuid} before the first run.
 */
final class CpuidDefaults {
    private CpuidDefaults() {}

    /** "GenuineIntel" as leaf 0 returns it in EBX, EDX, ECX. */
    static final int PV_HYPERCALL_FEATURES = 1 << 7 | 1 << 11 | 1 << 13;
    static final int INTEL_EBX = 0x756e6547, INTEL_EDX = 0x49656e69, INTEL_ECX = 0x6c65746e;

    /**
     * {@code intelVendor}: present "GenuineIntel" whatever the host is. On hosts where KVM emulates guest
     * kernel code, an AMD vendor string sends Linux down AMD-only paths (an FPU workaround with
     * instructions the emulator rejects; "unknown vendor" with a kernel built for Intel only).
     */
    static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, boolean intelVendor) {
        List<CpuidEntry> out = new ArrayList<>(supported.size());
        for (CpuidEntry e : supported) {
            out.add(switch (e.function()) {
                // Leaf 1 EBX[31:24]: initial APIC ID.
                case 0x1 -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(),
                        (e.ebx() & 0x00ff_ffff) | (apicId << 24), e.ecx(), e.edx());
                // Leaves 0xB and 0x1F EDX: x2APIC ID, on every sub-leaf.
                case 0xB, 0x1F -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), e.ebx(), e.ecx(), apicId);
                // KVM paravirt features that need hypercalls: measured on a host without VMX/SVM, a guest's
                // VMCALL for PV send-IPI never completed (the AP stayed on it; SMP boot hung), so such hosts
                // do not offer PV_UNHALT (7), PV_SEND_IPI (11) or PV_SCHED_YIELD (13).
                case 0x40000001 -> intelVendor ? new CpuidEntry(e.function(), e.index(), e.flags(), e.eax() & ~PV_HYPERCALL_FEATURES,
                        e.ebx(), e.ecx(), e.edx()) : e;
                case 0x0 -> intelVendor ? new CpuidEntry(0, e.index(), e.flags(), e.eax(), INTEL_EBX, INTEL_ECX, INTEL_EDX) : e;
                default -> e;
            });
        }
        return out;
    }
}
