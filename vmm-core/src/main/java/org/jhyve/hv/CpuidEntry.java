package org.jhyve.hv;

/** One CPUID leaf (function, sub-leaf index) and its result registers, as kvm_cpuid_entry2. */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
    /** Set in {@code flags} when the leaf's result depends on the sub-leaf index in ECX. */
    public static final int FLAG_SIGNIFICANT_INDEX = 1;
}
