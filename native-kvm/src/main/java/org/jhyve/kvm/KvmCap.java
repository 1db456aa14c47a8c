package org.jhyve.kvm;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * The KVM capabilities ({@code KVM_CAP_*}, queried with {@code KVM_CHECK_EXTENSION}) jhyve looks at.
 * Required ones must be present (a positive answer) or jhyve refuses to start; optional ones only change
 * what it does.
 */
enum KvmCap {
    IRQCHIP(0, true),
    USER_MEMORY(3, true),
    SET_TSS_ADDR(4, true),
    EXT_CPUID(7, true),
    /** Recommended vCPUs per VM (a count, not a flag). */
    NR_VCPUS(9, true),
    NR_MEMSLOTS(10, false),
    IRQFD(32, true),
    PIT2(33, true),
    IOEVENTFD(36, true),
    SET_IDENTITY_MAP_ADDR(37, false),
    /** Maximum vCPUs per VM (a count). */
    MAX_VCPUS(66, true),
    /** KVM_SIGNAL_MSI, how MSI-X capable devices interrupt. */
    SIGNAL_MSI(77, true),
    ENABLE_CAP_VM(98, false),
    /** The userspace interrupt platform needs these two: the APIC's MSRs exit to jhyve. */
    X86_USER_SPACE_MSR(188, false),
    X86_MSR_FILTER(189, false),
    IMMEDIATE_EXIT(136, true),
    /** With it enabled, emulation failures always exit to userspace and carry the instruction bytes. */
    EXIT_ON_EMULATION_FAILURE(204, false);

    final int number;
    final boolean required;

    KvmCap(int number, boolean required) {
        this.number = number;
        this.required = required;
    }

    String kernelName() {
        return "KVM_CAP_" + name();
    }

    /**
     * The required capabilities for which {@code check} (KVM_CHECK_EXTENSION) answers 0 or less,
     * so that one message can name them all.
     */
    static List<KvmCap> missing(IntUnaryOperator check) {
        List<KvmCap> missing = new ArrayList<>();
        for (KvmCap cap : values()) {
            if (cap.required && check.applyAsInt(cap.number) <= 0) missing.add(cap);
        }
        return missing;
    }
}
