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
import org.jhyve.hv.CpuTopology;
import org.jhyve.trace.TraceConfig;
import org.jhyve.vm.VmBuilder;

/**
 * The validated command line: every flag checked before anything native is touched, so bad input costs
 * nothing and leaves nothing behind.
 */
record MachineSpec(long memoryBytes, CpuTopology topology, List<PciSlotSpec> slots, Map<String, String> lpcPorts,
                   FirmwareSpec firmware, Optional<Path> pidFile, Optional<UUID> uuid, boolean exitOnUnhandledIo,
                   boolean acpi, boolean mpTable, Optional<CpuTemplate> cpuTemplate, Optional<TraceConfig> trace,
                   Optional<GdbOption> gdb, Optional<String> vmName, boolean wiredMemory, boolean printMac) {

    static final long DEFAULT_MEMORY = 256L << 20;

    /**
     * Flags xhyve has that jhyve cannot honour yet. Each fails with "not supported yet" rather than being
     * ignored; the later issue that implements it removes it from here.
     */
    private static void refuseUnsupported(CommandLine c) throws UsageException {
        if (c.bvmConsole) throw notYet("-b", "the bvm console is");
        if (c.coreMemory) throw notYet("-C", "guest memory in core files (the JVM's core dump excludes nothing it maps) is");
        if (c.configFile != null) throw notYet("-k " + c.configFile, "bhyve's configuration file is");
        if (!c.configValues.isEmpty()) throw notYet("-o " + c.configValues.getFirst(), "bhyve's configuration variables are");
        if (c.keyboardLayout != null) throw new UsageException("-K " + c.keyboardLayout, "there is no PS/2 keyboard to give a layout");
        if (c.restoreFile != null) throw new UsageException("-r " + c.restoreFile, "checkpoint and restore are not supported");
        if (c.gdbPort != null && c.bhyveGdb != null) throw new UsageException("-G " + c.bhyveGdb, "-g " + c.gdbPort + " already says where gdb connects");
        if (!c.pins.isEmpty()) throw notYet("-p " + c.pins.getFirst(), "vCPU pinning is");
        if (c.rtcUtc) throw notYet("-u", "the RTC is");
        if (c.ignoreMsrs) throw notYet("-w", "ignoring unimplemented MSRs (KVM decides MSR access in the kernel) is");
        if (c.singleMsi) throw notYet("-W", "single-vector MSI for virtio (its devices use MSI-X or INTx) is");
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
        CpuTopology topology = c.vcpus == null ? new CpuTopology(1, 1, 1) : TopologySpec.parse(c.vcpus);
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
            throw new UsageException("-l " + c.lpc.getFirst(), "needs an LPC device (-s 31,lpc)");
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
        Optional<GdbOption> gdb = c.gdbPort != null ? Optional.of(GdbOption.parse(c.gdbPort))
                : c.bhyveGdb != null ? Optional.of(GdbOption.parseBhyve(c.bhyveGdb)) : Optional.empty();
        Optional<String> vmName = c.vmName == null ? Optional.empty() : Optional.of(checkedName(c.vmName));
        return new MachineSpec(memory, topology, List.copyOf(slots), lpc, firmware, pidFile, uuid, c.exitOnUnhandledIo, c.acpi,
                !c.noMpTable, template, trace, gdb, vmName, c.wiredMemory, c.printMac);
    }

    /** bhyve's VM names are /dev/vmm entries (at most 32 bytes, no slash); printable, since jhyve's lines show them. */
    private static String checkedName(String name) throws UsageException {
        if (name.isEmpty() || name.length() > 32 || name.contains("/") || !name.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
            throw new UsageException(name.replace("\0", "\\0"), "a VM name is 1-32 printable characters without spaces or /");
        }
        return name;
    }

    int vcpus() {
        return topology.vcpus();
    }

    /** The same VM without {@code --trace} (a fuzz target's, whose trace file must not be created). */
    MachineSpec withoutTrace() {
        return new MachineSpec(memoryBytes, topology, slots, lpcPorts, firmware, pidFile, uuid, exitOnUnhandledIo, acpi, mpTable,
                cpuTemplate, Optional.empty(), gdb, vmName, wiredMemory, printMac);
    }
}
