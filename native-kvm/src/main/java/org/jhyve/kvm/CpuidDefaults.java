package org.jhyve.kvm;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.hv.CpuTopology;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.CpuidModifier;

/**
 * The CPUID a new vCPU starts with: KVM's supported leaves with the vCPU's own APIC ID and the VM's topology
 * filled in, which KVM leaves to userspace, then the VM's CPU template applied ({@link CpuidModifier#applyAll},
 * the template's data from {@link org.jhyve.hv.VmSpec#cpuid()}). Callers that want a different CPUID replace
 * it with {@link org.jhyve.hv.Vcpu#setCpuid} before the first run.
 */
final class CpuidDefaults {
    private CpuidDefaults() {}

    /** As {@link #forVcpu(List, int, int, List)} for a VM of one vCPU. */
    static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, List<CpuidModifier> template) {
        return forVcpu(supported, apicId, 1, template);
    }

    /** As {@link #forVcpu(List, int, CpuTopology, List)} for one package of {@code vcpuCount} single-threaded cores. */
    static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, int vcpuCount, List<CpuidModifier> template) {
        return forVcpu(supported, apicId, CpuTopology.onePackage(Math.max(1, vcpuCount)), template);
    }

    /**
     * For vCPU {@code apicId} of a VM grouped as {@code topology}: the topology leaves describe its packages,
     * cores and threads (APIC IDs 0..N-1, as jhyve's MADT lists them), instead of the host's topology that KVM
     * passes through; then {@code template} (a CPU template's CPUID) is applied. Counts of addressable IDs are
     * powers of two (ceil(log2)), the widths the APIC ID's fields have.
     */
    static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, CpuTopology topology, List<CpuidModifier> template) {
        int threadBits = topology.threadBits(), coreBits = topology.coreBits(), packageShift = threadBits + coreBits;
        int perPackage = topology.cores() * topology.threads();
        List<CpuidEntry> out = new ArrayList<>(supported.size());
        boolean hasLeafB = false;
        for (CpuidEntry e : supported) {
            if (e.function() == 0xB || e.function() == 0x1F) {
                // Rewritten below from the topology; the host's sub-leaves would describe its own sockets.
                hasLeafB |= e.function() == 0xB;
                continue;
            }
            out.add(switch (e.function()) {
                // Leaf 1: EBX[31:24] initial APIC ID, EBX[23:16] addressable logical processors per package;
                // EDX[28] HTT says the latter is valid (more than one logical processor in the package).
                case 0x1 -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(),
                        (e.ebx() & 0x0000_ffff) | (apicId << 24) | (Math.min(255, 1 << packageShift) << 16), e.ecx(),
                        perPackage > 1 ? e.edx() | 1 << 28 : e.edx() & ~(1 << 28));
                // Leaf 4 (caches): EAX[31:26] cores per package - 1; EAX[25:14] threads sharing the cache - 1:
                // L1 and L2 are a core's (its threads share them), the last level the whole package's.
                case 0x4 -> (e.eax() & 0x1f) == 0 ? e : new CpuidEntry(e.function(), e.index(), e.flags(),
                        (e.eax() & 0x3fff) | ((1 << coreBits) - 1) << 26
                                | ((1 << (((e.eax() >>> 5) & 7) >= 3 ? packageShift : threadBits)) - 1) << 14,
                        e.ebx(), e.ecx(), e.edx());
                default -> e;
            });
        }
        if (hasLeafB) {
            // Leaf 0xB, extended topology: sub-leaf 0 is the SMT level (T threads, shift ceil(log2 T)), sub-leaf 1
            // the core level (C*T logical processors per package, shift to the package ID), sub-leaf 2 ends the
            // list; EDX is the x2APIC ID on each.
            int sig = CpuidEntry.FLAG_SIGNIFICANT_INDEX;
            out.add(new CpuidEntry(0xB, 0, sig, threadBits, topology.threads(), 1 << 8, apicId));
            out.add(new CpuidEntry(0xB, 1, sig, packageShift, perPackage, 1 | 2 << 8, apicId));
            out.add(new CpuidEntry(0xB, 2, sig, 0, 0, 2, apicId));
        }
        return CpuidModifier.applyAll(template, out);
    }
}
