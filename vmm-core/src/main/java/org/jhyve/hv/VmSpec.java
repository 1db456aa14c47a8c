package org.jhyve.hv;

import java.util.List;

/**
 * What the hypervisor needs to create a VM: guest RAM size in bytes, the number of vCPUs, and the changes
 * to its supported CPUID that every vCPU gets (a CPU template's, {@code org.jhyve.cpu.CpuTemplate#cpuid()};
 * none: the hypervisor's CPUID as it is, apart from the APIC IDs and topology it fills in per vCPU).
 */
public record VmSpec(long memoryBytes, int vcpus, List<CpuidModifier> cpuid) {
    public VmSpec {
        if (memoryBytes <= 0 || (memoryBytes & 0xfff) != 0) throw new IllegalArgumentException("memory must be a positive multiple of 4 KiB");
        if (vcpus < 1) throw new IllegalArgumentException("at least one vCPU");
        cpuid = List.copyOf(cpuid);
    }

    /** With the hypervisor's CPUID unchanged. */
    public VmSpec(long memoryBytes, int vcpus) {
        this(memoryBytes, vcpus, List.of());
    }
}
