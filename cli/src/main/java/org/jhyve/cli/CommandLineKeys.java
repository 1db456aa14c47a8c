package org.jhyve.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import org.jhyve.config.ConfigException;
import org.jhyve.config.ConfigFile;
import org.jhyve.config.ConfigTree;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.pci.PciAddress;
import org.jhyve.vm.DeviceConfigException;

/**
 * The command line as one configuration tree, bhyve's keys where bhyve has them (docs/cli.md, "Configuration
 * tree"). In this order, a later value for a key replacing an earlier one: the flags (each {@code -s} string by its
 * emulation's translator into the slot's node), then each {@code -k} file's lines, then each {@code -o}. Only the
 * syntax of a flag is checked here; what the values mean is {@link MachineSpec}'s, read from the tree alone.
 */
final class CommandLineKeys {
    private CommandLineKeys() {}

    /** Files -k reads are configuration, not disk images: a bigger one is a mistake (or /dev/zero). */
    static final long MAX_CONFIG_FILE = 1 << 20;

    static ConfigTree translate(CommandLine c, DeviceCatalog catalog) throws UsageException {
        ConfigTree.Builder b = ConfigTree.builder();
        flags(c, b);
        for (String s : c.slots) slot(s, catalog, b);
        LpcSpec.translate(c.lpc, b);
        for (String file : c.configFiles) file(file, b);
        for (String option : c.configValues) option(option, b);
        return b.build();
    }

    private static void flags(CommandLine c, ConfigTree.Builder b) throws UsageException {
        if (c.memory != null) KeyErrors.set(b, "memory.size", c.memory, "-m " + c.memory);
        if (c.vcpus != null) TopologySpec.translate(c.vcpus, b);
        if (c.acpi) KeyErrors.set(b, "acpi_tables", "true", "-A");
        if (c.destroyOnPowerOff) KeyErrors.set(b, "destroy_on_poweroff", "true", "-D");
        if (c.exitOnUnhandledIo) KeyErrors.set(b, "x86.strictio", "true", "-e");
        if (c.exitOnHlt) KeyErrors.set(b, "x86.vmexit_on_hlt", "true", "-H");
        if (c.exitOnPause) KeyErrors.set(b, "x86.vmexit_on_pause", "true", "-P");
        if (c.wiredMemory) KeyErrors.set(b, "memory.wired", "true", "-S");
        if (c.noMpTable) KeyErrors.set(b, "x86.mptable", "false", "-Y");
        if (c.xapic) KeyErrors.set(b, "x86.x2apic", "false", "-a");
        // Keys bhyve has for what jhyve refuses: MachineSpec refuses the key, so -o refuses it the same way.
        if (c.x2apic) KeyErrors.set(b, "x86.x2apic", "true", "-x");
        if (c.coreMemory) KeyErrors.set(b, "memory.guest_in_core", "true", "-C");
        if (c.rtcUtc) KeyErrors.set(b, "rtc.use_localtime", "false", "-u");
        if (c.ignoreMsrs) KeyErrors.set(b, "x86.strictmsr", "false", "-w");
        if (c.singleMsi) KeyErrors.set(b, "virtio_msix", "false", "-W");
        if (c.keyboardLayout != null) KeyErrors.set(b, "keyboard.layout", c.keyboardLayout, "-K " + c.keyboardLayout);
        if (c.uuid != null) KeyErrors.set(b, "uuid", c.uuid, "-U " + c.uuid);
        if (c.vmName != null) KeyErrors.set(b, "name", c.vmName, c.vmName.replace("\0", "\\0"));
        if (c.pidFile != null) KeyErrors.set(b, "jhyve.pidfile", c.pidFile, "-F " + c.pidFile);
        if (c.cpuTemplate != null) KeyErrors.set(b, "jhyve.cpu_template", c.cpuTemplate, "--cpu-template " + c.cpuTemplate);
        if (c.mmioCrossCheck) KeyErrors.set(b, "jhyve.mmio_cross_check", "true", "--mmio-cross-check");
        if (c.irqchip != null) KeyErrors.set(b, "jhyve.irqchip", c.irqchip, "--irqchip " + c.irqchip);
        if (c.traceFile != null) KeyErrors.set(b, "jhyve.trace.file", c.traceFile, "--trace " + c.traceFile);
        if (c.traceFilter != null) KeyErrors.set(b, "jhyve.trace.filter", c.traceFilter, "--trace-filter " + c.traceFilter);
        if (c.gdbPort != null) GdbOption.translate(c.gdbPort, b);
        if (c.bhyveGdb != null) GdbOption.translateBhyve(c.bhyveGdb, b);
        if (c.firmware != null) FirmwareSpec.translate(c.firmware, b);
    }

    /** One {@code -s}: {@code pci.B.S.F.device}, and the emulation's translation of its options under the same node. */
    private static void slot(String text, DeviceCatalog catalog, ConfigTree.Builder b) throws UsageException {
        PciSlotSpec slot = PciSlotSpec.parse(text);
        var emulation = catalog.lookup(slot.emulation())
                .orElseThrow(() -> new UsageException(slot.flag(), "unknown emulation '" + slot.emulation() + "' (see -s help)"));
        String node = nodeOf(slot.address());
        if (b.has(node)) throw new UsageException(slot.flag(), "PCI slot " + slot.address() + " is already used");
        KeyErrors.set(b, node + ".device", slot.emulation(), slot.flag());
        try {
            for (var key : emulation.legacyKeys(slot.options()).entrySet()) KeyErrors.set(b, node + "." + key.getKey(), key.getValue(), slot.flag());
        } catch (DeviceConfigException e) {
            throw new UsageException(slot.flag(), e.getMessage());
        }
    }

    /** bhyve's node for a PCI function: {@code pci.BUS.SLOT.FUNCTION}, decimal without padding. */
    static String nodeOf(PciAddress address) {
        return "pci." + address.bus() + "." + address.slot() + "." + address.function();
    }

    private static void file(String name, ConfigTree.Builder b) throws UsageException {
        String flag = "-k " + name;
        String text;
        try {
            Path path = Path.of(name);
            if (!Files.exists(path)) throw new UsageException(flag, "no such file");
            // Not a FIFO or device: a FIFO with no writer blocks for good, /dev/zero never ends.
            if (!Files.isRegularFile(path)) throw new UsageException(flag, "not a file");
            if (Files.size(path) > MAX_CONFIG_FILE) throw new UsageException(flag, "larger than " + (MAX_CONFIG_FILE >> 20) + " MiB: not a configuration file");
            text = Files.readString(path);
        } catch (InvalidPathException e) {
            throw new UsageException(flag.replace("\0", "\\0"), "not a valid path: " + e.getReason());
        } catch (IOException e) {
            throw new UsageException(flag, "cannot read it: " + e.getMessage());
        }
        try {
            ConfigFile.parse(name, text, b);
        } catch (ConfigException e) {
            throw new UsageException(e.getMessage()); // "FILE:LINE: ...", where and what
        }
    }

    /** {@code -o key=value}, as a line of a -k file. */
    private static void option(String text, ConfigTree.Builder b) throws UsageException {
        String flag = "-o " + text;
        int eq = text.indexOf('=');
        if (eq <= 0) throw new UsageException(flag, "expected key=value (e.g. -o memory.size=1G)");
        KeyErrors.set(b, text.substring(0, eq), text.substring(eq + 1), flag);
    }
}
