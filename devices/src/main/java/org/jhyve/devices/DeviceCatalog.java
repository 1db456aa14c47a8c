package org.jhyve.devices;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jhyve.config.ConfigNode;
import org.jhyve.devices.ahci.AhciDriveOptions;
import org.jhyve.devices.ahci.AhciFactory;
import org.jhyve.devices.ahci.DriveKind;
import org.jhyve.devices.options.LegacyOptions;
import org.jhyve.devices.pci.Hostbridge;
import org.jhyve.devices.pci.LpcBridge;
import org.jhyve.devices.platform.AcpiPowerManagement;
import org.jhyve.devices.platform.KeyboardControllerReset;
import org.jhyve.devices.uart.SerialBackendSpec;
import org.jhyve.devices.virtio.VirtioBlockFactory;
import org.jhyve.devices.virtio.VirtioBlockOptions;
import org.jhyve.devices.virtio.VirtioNetFactory;
import org.jhyve.devices.virtio.VirtioNetOptions;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciDevice;
import org.jhyve.vm.DeviceConfigException;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PciDeviceFactory;
import org.jhyve.vm.PlatformDevice;

/**
 * The explicit registry of device emulations by their {@code -s} name, as bhyve's PCI_EMUL_SET: no
 * classpath scanning. Names that jhyve knows but does not implement yet are listed too, so that using
 * one fails with "not supported yet" rather than "unknown".
 *
 * <p>Each emulation reads its settings from its node of the configuration tree ({@code pci.B.S.F}); its
 * {@code -s} option string is only translated into that node's keys, once, as bhyve's legacy parsing does.
 */
public final class DeviceCatalog {
    /** An {@code -s} option string as keys of the device's node (names relative to it: "mac", "port.0.path"). */
    @FunctionalInterface
    public interface LegacyTranslator {
        /** @throws DeviceConfigException for an option the emulation does not have */
        Map<String, String> keys(String options);
    }

    /**
     * Makes the device from its node. Throws {@link org.jhyve.config.ConfigException} for a bad value (naming its
     * key) or {@link DeviceConfigException} for anything else. Called on the thread that builds the VM.
     */
    @FunctionalInterface
    public interface NodeFactory {
        PciDevice create(MachineContext machine, PciAddress address, ConfigNode node);
    }

    /**
     * One emulation: its {@code -s} name, a line for {@code -s help}, whether it works today, its translator from
     * an {@code -s} string, its factory, and its check: reads every key it knows of the node (so that the keys
     * left unread are unknown ones) and checks the files they name without opening anything.
     */
    public record Emulation(String name, String description, boolean supported, LegacyTranslator legacy, NodeFactory nodeFactory,
                            Consumer<ConfigNode> nodeCheck) {
        /** {@code -s}'s options as this emulation's node keys. */
        public Map<String, String> legacyKeys(String options) {
            return legacy.keys(options);
        }

        /**
         * Checks the node's settings (and the files they name) without opening anything, so the command line
         * can refuse them before the VM exists.
         *
         * @throws org.jhyve.config.ConfigException naming the key of a bad value
         * @throws DeviceConfigException for anything else
         */
        public void check(ConfigNode node) {
            nodeCheck.accept(node);
        }

        /** As {@link #check(ConfigNode)}, for an {@code -s} option string; errors are {@link DeviceConfigException}s. */
        public void checkOptions(String options) {
            LegacyOptions.read(legacyKeys(options), node -> {
                check(node);
                return node;
            });
        }

        /** The factory for a {@code VmBuilder.pci} slot configured by {@code node}; the factory's option string is not used. */
        public PciDeviceFactory factoryFor(ConfigNode node) {
            return (machine, address, ignored) -> nodeFactory.create(machine, address, node);
        }

        /** The factory for an {@code -s} option string, translated into a node of its own. */
        public PciDeviceFactory factory() {
            return (machine, address, options) ->
                    LegacyOptions.read(legacyKeys(options), node -> nodeFactory.create(machine, address, node));
        }
    }

    private final List<Emulation> emulations;

    private DeviceCatalog(List<Emulation> emulations) {
        this.emulations = emulations;
    }

    /**
     * The standard set. {@code lpcPorts} maps "com1" to "com4" to a serial backend spec (the {@code -l} flag);
     * they are served by the {@code lpc} device, which parses them when it is created (a bad one fails the
     * build with a {@link DeviceConfigException}).
     */
    public static DeviceCatalog standard(Map<String, String> lpcPorts) {
        Map<String, String> ports = Map.copyOf(lpcPorts);
        return withLpc(machine -> LpcBridge.create(machine, ports));
    }

    /**
     * The standard set, with COM1/COM2 on backends given as specs rather than {@code -l} strings: the way
     * to a {@link SerialBackendSpec.Streams} (a {@link org.jhyve.devices.uart.SerialConsole}'s, say).
     * Streams belong to the VM whose {@code lpc} device opens them, and it closes them: build one VM with them.
     */
    public static DeviceCatalog withConsoles(Map<String, SerialBackendSpec> ports) {
        Map<String, SerialBackendSpec> copy = Map.copyOf(ports);
        return withLpc(machine -> LpcBridge.withConsoles(machine, copy));
    }

    private static DeviceCatalog withLpc(Function<MachineContext, LpcBridge> lpc) {
        return new DeviceCatalog(List.of(
                noOptions("hostbridge", "PCI host bridge (bhyve's IDs 1275:1275)", m -> new Hostbridge()),
                noOptions("amd_hostbridge", "PCI host bridge with AMD IDs (1022:7432)", m -> Hostbridge.amd()),
                noOptions("lpc", "LPC (ISA) bridge with the COM1-COM4 16550 UARTs given by -l (lpc.comN.path)", lpc::apply),
                new Emulation("virtio-blk", "virtio block device over a raw image or block device: PATH[,ro][,nocache][,sync|direct][,nodelete][,sectorsize=L[/P]][,serial=ID][,num-queues=N]",
                        true, VirtioBlockOptions::legacyKeys, VirtioBlockFactory::create, VirtioBlockFactory::check),
                new Emulation("virtio-net", "virtio network device: nothing or slirp (user-mode networking through passt)[,hostfwd=tcp:HOSTADDR:HOSTPORT-:GUESTPORT]..., TAPNAME, or socket=udp:HOST:PORT|unix:PATH,peer=...; [,mac=xx:xx:xx:xx:xx:xx]",
                        true, VirtioNetOptions::legacyKeys, VirtioNetFactory::create, VirtioNetFactory::check),
                // xhyve's name for virtio-net over a tap (pci_virtio_tap.c): the same device, the same options.
                new Emulation("virtio-tap", "xhyve's name for virtio-net: the same device and options", true,
                        VirtioNetOptions::legacyKeys, VirtioNetFactory::create, VirtioNetFactory::check),
                notYet("virtio-rnd", "virtio entropy device"),
                ahci("ahci-hd", "AHCI controller with a SATA disk on port 0: PATH[,ro][,nocache][,sync|direct][,nodelete][,sectorsize=L[/P]][,serial=ID]",
                        o -> AhciDriveOptions.legacySingleKeys(DriveKind.HD, o)),
                ahci("ahci-cd", "AHCI controller with an ATAPI CD-ROM on port 0 (read-only image): PATH[,nocache][,serial=ID]",
                        o -> AhciDriveOptions.legacySingleKeys(DriveKind.CD, o)),
                ahci("ahci", "AHCI controller with one drive per port: hd:PATH[,options],cd:PATH[,options],...",
                        AhciDriveOptions::legacyPortKeys)));
    }

    private static Emulation ahci(String name, String description, LegacyTranslator legacy) {
        return new Emulation(name, description, true, legacy, (m, a, node) -> AhciFactory.create(m, a, name, node),
                node -> AhciFactory.check(name, node));
    }

    /** An emulation with no settings: an option string is refused before anything is created, so a refused device opens nothing. */
    private static Emulation noOptions(String name, String description, Function<MachineContext, PciDevice> device) {
        LegacyTranslator none = options -> {
            if (!options.isEmpty()) throw new DeviceConfigException(name + " takes no options: " + options);
            return Map.of();
        };
        return new Emulation(name, description, true, none, (m, a, node) -> device.apply(m), node -> {});
    }

    private static Emulation notYet(String name, String description) {
        return new Emulation(name, description + " (not supported yet)", false, options -> Map.of(), (m, a, node) -> {
            throw new DeviceConfigException(name + " is not supported yet");
        }, node -> {});
    }

    /** The factory for a working emulation; empty for unknown names and for those not supported yet. */
    public Optional<PciDeviceFactory> find(String emulation) {
        return emulations.stream().filter(e -> e.name().equals(emulation) && e.supported()).map(Emulation::factory).findFirst();
    }

    public Optional<Emulation> lookup(String emulation) {
        return emulations.stream().filter(e -> e.name().equals(emulation)).findFirst();
    }

    public List<Emulation> emulations() {
        return emulations;
    }

    /** The non-PCI devices every jhyve machine has: ACPI power management and the i8042 reset. */
    public List<PlatformDevice> platformDevices() {
        return List.of(new AcpiPowerManagement(), new KeyboardControllerReset());
    }
}
