package org.jhyve.hv;

/** What the hypervisor needs to create a VM: guest RAM size in bytes and the number of vCPUs. */
public record VmSpec(long memoryBytes, int vcpus) {
    public VmSpec {
        if (memoryBytes <= 0 || (memoryBytes & 0xfff) != 0) throw new IllegalArgumentException("memory must be a positive multiple of 4 KiB");
        if (vcpus < 1) throw new IllegalArgumentException("at least one vCPU");
    }
}
