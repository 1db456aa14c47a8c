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

    static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId) {
        List<CpuidEntry> out = new ArrayList<>(supported.size());
        for (CpuidEntry e : supported) {
            out.add(switch (e.function()) {
                // Leaf 1 EBX[31:24]: initial APIC ID.
                case 0x1 -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(),
                        (e.ebx() & 0x00ff_ffff) | (apicId << 24), e.ecx(), e.edx());
                // Leaves 0xB and 0x1F EDX: x2APIC ID, on every sub-leaf.
                case 0xB, 0x1F -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), e.ebx(), e.ecx(), apicId);
                default -> e;
            });
        }
        return out;
    }
}
