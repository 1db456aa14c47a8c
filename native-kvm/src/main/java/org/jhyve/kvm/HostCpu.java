package org.jhyve.kvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the host CPU offers, from /proc/cpuinfo. KVM without VMX or SVM (the PVM flavour) emulates guest
 * kernel code instruction by instruction, and its emulator rejects some instructions: guests there need
 * the {@code pvm} CPU template ({@link org.jhyve.cpu.CpuTemplate#PVM}: an Intel vendor string, no
 * hypercall-based PV features, kernel parameters that steer Linux clear of those instructions). Read by
 * {@link KvmSystem} when it opens; {@link KvmHypervisor#hasHardwareVirtualization()} is how the rest of jhyve asks.
 */
public record HostCpu(Set<String> flags) {
    public HostCpu {
        flags = Set.copyOf(flags);
    }

    /** The flags of the first processor in {@code cpuinfo}'s text. */
    static HostCpu parse(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            if (line.startsWith("flags")) {
                int colon = line.indexOf(':');
                return new HostCpu(Arrays.stream(line.substring(colon + 1).trim().split("\\s+")).collect(Collectors.toSet()));
            }
        }
        return new HostCpu(Set.of());
    }

    public static HostCpu read() {
        try {
            return parse(Files.readString(Path.of("/proc/cpuinfo")));
        } catch (IOException e) {
            return new HostCpu(Set.of());
        }
    }

    /** True when the CPU has hardware virtualization (VMX or SVM), so KVM runs guest kernel code natively. */
    public boolean hasHardwareVirtualization() {
        return flags.contains("vmx") || flags.contains("svm");
    }
}
