package org.jhyve.vm;

import java.net.SocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.jhyve.boot.BootLoader;
import org.jhyve.hv.CpuTopology;
import org.jhyve.hv.CpuidModifier;
import org.jhyve.hv.InterruptPlatform;
import org.jhyve.trace.TraceConfig;

/**
 * A VM as {@link VmBuilder} described and checked it: everything it is built from but the hypervisor.
 *
 * @param pciSlots        created first, in this order
 * @param platformDevices installed after the PCI devices, in this order
 * @param gdb             where a GDB stub listens, if any
 * @param gdbWaits        whether the vCPUs wait for gdb before their first instruction
 * @param cpuid           what the CPU template changes in the guest's CPUID
 * @param topology        how the vCPUs are grouped in packages, cores and threads
 * @param wiredMemory     guest RAM locked in host memory
 * @param interrupts      who emulates the interrupt controllers: the hypervisor, or jhyve's userspace platform
 * @param mmioCrossCheck  every MMIO exit decoded again by jhyve and compared with the hypervisor's decoding
 */
record VmPlan(long memoryBytes, int vcpus, BootLoader boot, List<VmBuilder.PciSlot> pciSlots,
              List<PlatformDevice> platformDevices, boolean exitOnUnhandledIo, Optional<UUID> uuid,
              Optional<TraceConfig> trace, Optional<SocketAddress> gdb, boolean gdbWaits, List<CpuidModifier> cpuid,
              CpuTopology topology, boolean wiredMemory, InterruptPlatform interrupts,
              boolean mmioCrossCheck) {
    VmPlan {
        Objects.requireNonNull(interrupts, "interrupts");
        Objects.requireNonNull(boot, "boot loader");
        pciSlots = List.copyOf(pciSlots);
        platformDevices = List.copyOf(platformDevices);
        cpuid = List.copyOf(cpuid);
    }
}
