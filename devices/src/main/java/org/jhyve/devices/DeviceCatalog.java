package org.jhyve.devices;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.jhyve.devices.ahci.AhciFactory;
import org.jhyve.devices.pci.Hostbridge;
import org.jhyve.devices.pci.LpcBridge;
import org.jhyve.devices.platform.AcpiPowerManagement;
import org.jhyve.devices.platform.KeyboardControllerReset;
import org.jhyve.devices.uart.SerialBackendSpec;
import org.jhyve.devices.virtio.VirtioBlockFactory;
import org.jhyve.devices.virtio.VirtioNetFactory;
import org.jhyve.vm.DeviceConfigException;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PciDeviceFactory;
import org.jhyve.vm.PlatformDevice;

/**
 * The explicit registry of device emulations by their {@code -s} name, as bhyve's PCI_EMUL_SET: no
 * classpath scanning. Names that jhyve knows but does not implement yet are listed too, so that using
 * one fails with "not supported yet" rather than "unknown".
 */
public final class DeviceCatalog {
    /** One emulation: its {@code -s} name, a line for {@code -s help}, and whether it works today. */
    public record Emulation(String name, String description, boolean supported, PciDeviceFactory factory,
                            java.util.function.Consumer<String> optionsCheck) {
        public Emulation(String name, String description, boolean supported, PciDeviceFactory factory) {
            this(name, description, supported, factory, options -> {});
        }

        /**
         * Checks the {@code -s} options (and the files they name) without opening anything, so the command line
         * can refuse them before the VM exists.
         *
         * @throws DeviceConfigException naming what is wrong
         */
        public void checkOptions(String options) {
            optionsCheck.accept(options);
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
                new Emulation("hostbridge", "PCI host bridge (bhyve's IDs 1275:1275)", true, (m, a, o) -> noOptions("hostbridge", o, Hostbridge::new)),
                new Emulation("amd_hostbridge", "PCI host bridge with AMD IDs (1022:7432)", true, (m, a, o) -> noOptions("amd_hostbridge", o, Hostbridge::amd)),
                new Emulation("lpc", "LPC (ISA) bridge with the COM1-COM4 16550 UARTs given by -l", true, (m, a, o) -> noOptions("lpc", o, () -> lpc.apply(m))),
                new Emulation("virtio-blk", "virtio block device over a raw image or block device: PATH[,ro][,nocache][,sync|direct][,nodelete][,sectorsize=L[/P]][,serial=ID][,num-queues=N]",
                        true, VirtioBlockFactory::create, VirtioBlockFactory::check),
                new Emulation("virtio-net", "virtio network device: nothing or slirp (user-mode networking through passt)[,hostfwd=tcp:HOSTADDR:HOSTPORT-:GUESTPORT]..., TAPNAME, or socket=udp:HOST:PORT|unix:PATH,peer=...; [,mac=xx:xx:xx:xx:xx:xx]",
                        true, VirtioNetFactory::create, VirtioNetFactory::check),
                // xhyve's name for virtio-net over a tap (pci_virtio_tap.c): the same device, the same options.
                new Emulation("virtio-tap", "xhyve's name for virtio-net: the same device and options", true, VirtioNetFactory::create, VirtioNetFactory::check),
                notYet("virtio-rnd", "virtio entropy device"),
                new Emulation("ahci-hd", "AHCI controller with a SATA disk on port 0: PATH[,ro][,nocache][,sync|direct][,nodelete][,sectorsize=L[/P]][,serial=ID]",
                        true, AhciFactory::createDisk, AhciFactory::checkDisk),
                new Emulation("ahci-cd", "AHCI controller with an ATAPI CD-ROM on port 0 (read-only image): PATH[,nocache][,serial=ID]",
                        true, AhciFactory::createCdrom, AhciFactory::checkCdrom),
                new Emulation("ahci", "AHCI controller with one drive per port: hd:PATH[,options],cd:PATH[,options],...",
                        true, AhciFactory::createMultiPort, AhciFactory::checkMultiPort)));
    }

    /** Checks there are no options before creating anything, so a refused device opens nothing. */
    private static <T> T noOptions(String name, String options, java.util.function.Supplier<T> device) {
        if (!options.isEmpty()) throw new DeviceConfigException(name + " takes no options: " + options);
        return device.get();
    }

    private static Emulation notYet(String name, String description) {
        return new Emulation(name, description + " (not supported yet)", false, (m, a, o) -> {
            throw new DeviceConfigException(name + " is not supported yet");
        });
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
