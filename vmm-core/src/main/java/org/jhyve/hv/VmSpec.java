package org.jhyve.hv;

import java.util.List;
import java.util.Objects;

/**
 * What the hypervisor needs to create a VM: guest RAM size in bytes, the number of vCPUs and how they are
 * grouped ({@code topology}, which the CPUID describes), the changes to its supported CPUID that every vCPU
 * gets (a CPU template's, {@code org.jhyve.cpu.CpuTemplate#cpuid()}; none: the hypervisor's CPUID as it is,
 * apart from the APIC IDs and topology it fills in per vCPU), whether guest RAM is wired (locked in host
 * memory, never swapped: bhyve's {@code -S}), and who emulates the interrupt controllers ({@code interrupts}).
 */
public record VmSpec(long memoryBytes, int vcpus, List<CpuidModifier> cpuid, CpuTopology topology, boolean wiredMemory,
                     InterruptPlatform interrupts) {
    public VmSpec {
        Objects.requireNonNull(interrupts, "interrupts");
        if (memoryBytes <= 0 || (memoryBytes & 0xfff) != 0) throw new IllegalArgumentException("memory must be a positive multiple of 4 KiB");
        if (vcpus < 1) throw new IllegalArgumentException("at least one vCPU");
        cpuid = List.copyOf(cpuid);
        Objects.requireNonNull(topology, "topology");
        if (topology.vcpus() != vcpus) throw new IllegalArgumentException("topology " + topology + " is not " + vcpus + " vCPUs");
    }

    /** With the hypervisor's own interrupt controllers. */
    public VmSpec(long memoryBytes, int vcpus, List<CpuidModifier> cpuid, CpuTopology topology, boolean wiredMemory) {
        this(memoryBytes, vcpus, cpuid, topology, wiredMemory, InterruptPlatform.IN_KERNEL);
    }

    /** One package of {@code vcpus} cores, RAM not wired. */
    public VmSpec(long memoryBytes, int vcpus, List<CpuidModifier> cpuid) {
        this(memoryBytes, vcpus, cpuid, CpuTopology.onePackage(Math.max(1, vcpus)), false);
    }

    /** With the hypervisor's CPUID unchanged. */
    public VmSpec(long memoryBytes, int vcpus) {
        this(memoryBytes, vcpus, List.of());
    }
}
