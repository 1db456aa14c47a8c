package org.jhyve.kvm;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.hv.CpuidEntry;

/**
 * What the CPUID says when jhyve's userspace platform, not KVM, is the local APIC. The TSC-deadline timer is
 * jhyve's to offer (KVM's supported leaves leave it out because only its own APIC could serve it), and the KVM
 * paravirtual features that talk to KVM's APIC directly are withdrawn: PV EOI, PV unhalt and PV send-IPI, PV
 * sched-yield (both name a target by APIC ID in KVM's map), and asynchronous page faults (delivered as an APIC
 * interrupt by KVM). QEMU with {@code kernel-irqchip=off} withdraws the same.
 */
final class UserspaceApicCpuid {
    private UserspaceApicCpuid() {}

    static final int TSC_DEADLINE_ECX = 1 << 24;
    static final int KVM_FEATURES_LEAF = 0x4000_0001;
    /** KVM_FEATURE_ASYNC_PF (4), PV_EOI (6), PV_UNHALT (7), PV_SEND_IPI (11), PV_SCHED_YIELD (13), ASYNC_PF_INT (14). */
    static final int WITHDRAWN_KVM_FEATURES = 1 << 4 | 1 << 6 | 1 << 7 | 1 << 11 | 1 << 13 | 1 << 14;

    static List<CpuidEntry> apply(List<CpuidEntry> entries) {
        List<CpuidEntry> out = new ArrayList<>(entries.size());
        for (CpuidEntry e : entries) {
            out.add(switch (e.function()) {
                case 0x1 -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), e.ebx(), e.ecx() | TSC_DEADLINE_ECX, e.edx());
                case KVM_FEATURES_LEAF -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax() & ~WITHDRAWN_KVM_FEATURES,
                        e.ebx(), e.ecx(), e.edx());
                default -> e;
            });
        }
        return out;
    }
}
