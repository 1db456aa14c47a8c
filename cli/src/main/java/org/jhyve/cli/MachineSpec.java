package org.jhyve.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.trace.TraceConfig;
import org.jhyve.vm.VmBuilder;

/**
 * The validated command line: every flag checked before anything native is touched, so bad input costs
 * nothing and leaves nothing behind.
 */
record MachineSpec(long memoryBytes, int vcpus, List<PciSlotSpec> slots, Map<String, String> lpcPorts,
                   FirmwareSpec firmware, Optional<Path> pidFile, Optional<UUID> uuid, boolean exitOnUnhandledIo,
                   boolean acpi, boolean mpTable, Optional<CpuTemplate> cpuTemplate, Optional<TraceConfig> trace,
                   Optional<GdbOption> gdb) {

    static final long DEFAULT_MEMORY = 256L << 20;

    /**
     * Flags xhyve has that jhyve cannot honour yet. Each fails with "not supported yet" rather than being
     * ignored; the later issue that implements it removes it from here.
     */
    private static void refuseUnsupported(CommandLine c) throws UsageException {
        if (c.bvmConsole) throw notYet("-b", "the bvm console is");
        if (c.coreMemory) throw notYet("-C", "core files are");
        if (c.printMac) throw notYet("-M", "virtio-net (and its MAC address) is");
        if (!c.pins.isEmpty()) throw notYet("-p " + c.pins.getFirst(), "vCPU pinning is");
        if (c.rtcUtc) throw notYet("-u", "the RTC is");
        if (c.ignoreMsrs) throw notYet("-w", "ignoring unimplemented MSRs (KVM decides MSR access in the kernel) is");
        if (c.singleMsi) throw notYet("-W", "virtio is");
        if (c.x2apic) throw notYet("-x", "x2APIC mode is");
    }

    private static UsageException notYet(String flag, String what) {
        return new UsageException(flag, what + " not supported yet");
    }

    static MachineSpec from(CommandLine c, DeviceCatalog catalogForNames, long hostMemory) throws UsageException {
        refuseUnsupported(c);
        long memory = c.memory == null ? DEFAULT_MEMORY : MemorySize.parse(c.memory);
        if (memory < VmBuilder.MIN_MEMORY) throw new UsageException("-m " + c.memory, "guest memory must be at least 1 MiB");
        if ((memory & 0xfff) != 0) throw new UsageException("-m " + c.memory, "guest memory must be a multiple of 4 KiB");
        if (memory > hostMemory) {
            throw new UsageException("-m " + c.memory, String.format("memory too large for the host (%d MiB > %d MiB)",
                    memory >> 20, hostMemory >> 20));
        }
        int vcpus = 1;
        if (c.vcpus != null) {
            try {
                vcpus = Integer.parseInt(c.vcpus);
            } catch (NumberFormatException e) {
                throw new UsageException("-c " + c.vcpus, "not a number of vCPUs");
            }
            if (vcpus < 1 || vcpus > VmBuilder.MAX_VCPUS) throw new UsageException("-c " + c.vcpus, "vCPU count must be 1-" + VmBuilder.MAX_VCPUS);
        }
        List<PciSlotSpec> slots = new ArrayList<>();
        Set<org.jhyve.pci.PciAddress> used = new HashSet<>();
        boolean hasLpc = false;
        for (String s : c.slots) {
            PciSlotSpec slot = PciSlotSpec.parse(s);
            var emulation = catalogForNames.lookup(slot.emulation())
                    .orElseThrow(() -> new UsageException(slot.flag(), "unknown emulation '" + slot.emulation() + "' (see -s help)"));
            if (!emulation.supported()) throw new UsageException(slot.flag(), slot.emulation() + " is not supported yet");
            try {
                emulation.checkOptions(slot.options());
            } catch (org.jhyve.vm.DeviceConfigException e) {
                throw new UsageException(slot.flag(), e.getMessage());
            }
            if (!used.add(slot.address())) throw new UsageException(slot.flag(), "PCI slot " + slot.address() + " is already used");
            hasLpc |= slot.emulation().equals("lpc");
            slots.add(slot);
        }
        Map<String, String> lpc = LpcSpec.parse(c.lpc);
        if (!lpc.isEmpty() && !hasLpc) {
            String first = lpc.keySet().iterator().next();
            throw new UsageException("-l " + first + "," + lpc.get(first), "needs an LPC device (-s 31,lpc)");
        }
        if (c.firmware == null) throw new UsageException("-f", "missing: say what to boot (-f kexec,KERNEL,INITRD,CMDLINE)");
        FirmwareSpec firmware = FirmwareSpec.parse(c.firmware);
        Optional<UUID> uuid = Optional.empty();
        if (c.uuid != null) {
            // UUID.fromString accepts short forms such as "1-2-3-4-5"; xhyve wants the canonical 8-4-4-4-12.
            if (!c.uuid.matches("\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}")) {
                throw new UsageException("-U " + c.uuid, "not a UUID (e.g. 6ba7b810-9dad-11d1-80b4-00c04fd430c8)");
            }
            uuid = Optional.of(UUID.fromString(c.uuid));
        }
        Optional<Path> pidFile = Optional.ofNullable(c.pidFile).map(Path::of);
        Optional<CpuTemplate> template = Optional.empty();
        if (c.cpuTemplate != null) {
            try {
                template = Optional.of(CpuTemplate.byName(c.cpuTemplate));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--cpu-template " + c.cpuTemplate, e.getMessage());
            }
        }
        Optional<TraceConfig> trace = TraceSpec.parse(c.traceFile, c.traceFilter);
        Optional<GdbOption> gdb = c.gdbPort == null ? Optional.empty() : Optional.of(GdbOption.parse(c.gdbPort));
        return new MachineSpec(memory, vcpus, List.copyOf(slots), lpc, firmware, pidFile, uuid, c.exitOnUnhandledIo, c.acpi,
                !c.noMpTable, template, trace, gdb);
    }
}
