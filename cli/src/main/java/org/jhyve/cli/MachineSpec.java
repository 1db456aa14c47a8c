package org.jhyve.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jhyve.config.ConfigException;
import org.jhyve.config.ConfigNode;
import org.jhyve.config.ConfigTree;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.hv.CpuTopology;
import org.jhyve.trace.TraceConfig;
import org.jhyve.hv.InterruptPlatform;
import org.jhyve.vm.VmBuilder;

/**
 * The validated configuration: every key of the tree checked before anything native is touched, so bad input
 * costs nothing and leaves nothing behind. Built from the {@link ConfigTree} alone ({@code config}, which it
 * keeps for the origins of later errors), so that a command line and a {@code -k} file of its dump are the same
 * VM. {@code printMac} is {@code -M}, an action like {@code -h} rather than configuration.
 */
record MachineSpec(long memoryBytes, CpuTopology topology, List<PciSlotNode> slots, Map<String, String> lpcPorts, LpcTestDevices testDevices,
                   FirmwareSpec firmware, Optional<Path> pidFile, Optional<UUID> uuid, boolean exitOnUnhandledIo,
                   boolean acpi, boolean mpTable, Optional<CpuTemplate> cpuTemplate, Optional<TraceConfig> trace,
                   Optional<GdbOption> gdb, Optional<String> vmName, boolean wiredMemory, boolean printMac,
                   boolean dumpConfig, ConfigTree config, InterruptPlatform interrupts,
                   boolean mmioCrossCheck) {

    static final long DEFAULT_MEMORY = 256L << 20;

    /**
     * Flags xhyve has that jhyve cannot honour yet and that have no configuration key. Each fails with "not
     * supported yet" rather than being ignored; the later issue that implements it removes it from here.
     */
    private static void refuseUnsupported(CommandLine c) throws UsageException {
        if (c.bvmConsole) throw notYet("-b", "the bvm console is");
        if (c.restoreFile != null) throw new UsageException("-r " + c.restoreFile, "checkpoint and restore are not supported");
        if (c.gdbPort != null && c.bhyveGdb != null) throw new UsageException("-G " + c.bhyveGdb, "-g " + c.gdbPort + " already says where gdb connects");
        if (!c.pins.isEmpty()) throw notYet("-p " + c.pins.getFirst(), "vCPU pinning is");
    }

    private static UsageException notYet(String flag, String what) {
        return new UsageException(flag, what + " not supported yet");
    }

    /** The command line: its tree ({@link CommandLineKeys}), validated. */
    static MachineSpec from(CommandLine c, DeviceCatalog catalogForNames, long hostMemory) throws UsageException {
        refuseUnsupported(c);
        return from(CommandLineKeys.translate(c, catalogForNames), c.printMac, catalogForNames, hostMemory);
    }

    /** {@code tree} validated; any key nobody read is an error naming it. */
    static MachineSpec from(ConfigTree tree, boolean printMac, DeviceCatalog catalogForNames, long hostMemory) throws UsageException {
        try {
            MachineSpec spec = read(tree, printMac, catalogForNames, hostMemory);
            List<String> unknown = tree.unread();
            if (!unknown.isEmpty()) throw new UsageException(KeyErrors.origin(tree, unknown.getFirst()), "unknown configuration key " + unknown.getFirst());
            return spec;
        } catch (ConfigException e) {
            throw KeyErrors.usage(tree, e);
        }
    }

    private static MachineSpec read(ConfigTree tree, boolean printMac, DeviceCatalog catalog, long hostMemory) throws UsageException {
        ConfigNode root = tree.root();
        UnsupportedKeys.refuse(tree);
        long memory = memory(tree, hostMemory);
        CpuTopology topology = TopologySpec.read(tree);
        List<PciSlotNode> slots = PciSlots.read(tree, catalog);
        Map<String, String> lpc = LpcSpec.read(tree);
        LpcTestDevices testDevices = LpcTestDevices.read(tree);
        if ((!lpc.isEmpty() || testDevices.any()) && slots.stream().noneMatch(s -> s.emulation().equals("lpc"))) {
            throw new UsageException(KeyErrors.origin(tree, "lpc"), "needs an LPC device (-s 31,lpc)");
        }
        FirmwareSpec firmware = FirmwareSpec.read(tree);
        Optional<UUID> uuid = uuid(tree);
        Optional<Path> pidFile = tree.value("jhyve.pidfile").map(Path::of);
        Optional<CpuTemplate> template = Optional.empty();
        Optional<String> templateName = tree.value("jhyve.cpu_template");
        if (templateName.isPresent()) {
            try {
                template = Optional.of(CpuTemplate.byName(templateName.get()));
            } catch (IllegalArgumentException e) {
                throw new UsageException(KeyErrors.origin(tree, "jhyve.cpu_template"), e.getMessage());
            }
        }
        InterruptPlatform interrupts = interrupts(tree);
        Optional<TraceConfig> trace = TraceSpec.read(tree);
        Optional<GdbOption> gdb = GdbOption.read(tree);
        Optional<String> vmName = tree.value("name");
        if (vmName.isPresent()) checkedName(KeyErrors.origin(tree, "name"), vmName.get());
        // Accepted and meaningless here: a jhyve VM never outlives its process, and KVM decides HLT and PAUSE exits.
        root.bool("destroy_on_poweroff", false);
        root.bool("x86.vmexit_on_hlt", false);
        root.bool("x86.vmexit_on_pause", false);
        return new MachineSpec(memory, topology, slots, lpc, testDevices, firmware, pidFile, uuid, root.bool("x86.strictio", false),
                root.bool("acpi_tables", false), root.bool("x86.mptable", true), template, trace, gdb, vmName,
                root.bool("memory.wired", false), printMac, root.bool("config.dump", false), tree, interrupts,
                root.bool("jhyve.mmio_cross_check", false));
    }

    /** {@code jhyve.irqchip} ({@code --irqchip}): kernel (the default) or userspace. */
    private static InterruptPlatform interrupts(ConfigTree tree) throws UsageException {
        Optional<String> text = tree.value("jhyve.irqchip");
        if (text.isEmpty()) return InterruptPlatform.IN_KERNEL;
        return switch (text.get()) {
            case "kernel" -> InterruptPlatform.IN_KERNEL;
            case "userspace" -> InterruptPlatform.USERSPACE;
            default -> throw new UsageException(KeyErrors.origin(tree, "jhyve.irqchip"), "unknown irqchip '" + text.get() + "' (kernel, userspace)");
        };
    }

    private static long memory(ConfigTree tree, long hostMemory) throws UsageException {
        Optional<String> text = tree.value("memory.size");
        if (text.isEmpty()) return DEFAULT_MEMORY;
        String flag = KeyErrors.origin(tree, "memory.size");
        long memory = MemorySize.parse(flag, text.get());
        if (memory < VmBuilder.MIN_MEMORY) throw new UsageException(flag, "guest memory must be at least 1 MiB");
        if ((memory & 0xfff) != 0) throw new UsageException(flag, "guest memory must be a multiple of 4 KiB");
        if (memory > hostMemory) {
            throw new UsageException(flag, String.format("memory too large for the host (%d MiB > %d MiB)", memory >> 20, hostMemory >> 20));
        }
        return memory;
    }

    private static Optional<UUID> uuid(ConfigTree tree) throws UsageException {
        Optional<String> text = tree.value("uuid");
        if (text.isEmpty()) return Optional.empty();
        // UUID.fromString accepts short forms such as "1-2-3-4-5"; xhyve wants the canonical 8-4-4-4-12.
        if (!text.get().matches("\\p{XDigit}{8}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{4}-\\p{XDigit}{12}")) {
            throw new UsageException(KeyErrors.origin(tree, "uuid"), "not a UUID (e.g. 6ba7b810-9dad-11d1-80b4-00c04fd430c8)");
        }
        return Optional.of(UUID.fromString(text.get()));
    }

    /** bhyve's VM names are /dev/vmm entries (at most 32 bytes, no slash); printable, since jhyve's lines show them. */
    private static void checkedName(String flag, String name) throws UsageException {
        if (name.isEmpty() || name.length() > 32 || name.contains("/") || !name.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
            throw new UsageException(flag, "a VM name is 1-32 printable characters without spaces or /");
        }
    }

    int vcpus() {
        return topology.vcpus();
    }

    /** The same VM without {@code --trace} (a fuzz target's, whose trace file must not be created). */
    MachineSpec withoutTrace() {
        return new MachineSpec(memoryBytes, topology, slots, lpcPorts, testDevices, firmware, pidFile, uuid, exitOnUnhandledIo, acpi, mpTable,
                cpuTemplate, Optional.empty(), gdb, vmName, wiredMemory, printMac, dumpConfig, config, interrupts, mmioCrossCheck);
    }

    /** Where {@code key} was set, for errors found later (when the VM is built). */
    String origin(String key) {
        return KeyErrors.origin(config, key);
    }
}
