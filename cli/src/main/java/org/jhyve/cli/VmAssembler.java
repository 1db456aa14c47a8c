package org.jhyve.cli;

import org.jhyve.config.ConfigException;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.firmware.ImageFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.jhyve.firmware.KexecLoader;
import org.jhyve.hv.Hypervisor;
import org.jhyve.vm.DeviceConfigException;
import org.jhyve.vm.PciDeviceFactory;
import org.jhyve.vm.PlatformDevice;
import org.jhyve.vm.VirtualMachine;
import org.jhyve.vm.VmBuilder;

/** Turns a validated {@link MachineSpec} into one call chain on the jhyve API: the CLI is a client like any other. */
final class VmAssembler {
    private VmAssembler() {}

    /**
     * Kernel parameters matter only to a Linux kernel; a guest program would refuse a command line. The
     * file is read no further than guest RAM, where it must fit anyway.
     */
    private static boolean isLinux(FirmwareSpec firmware, long memoryBytes) {
        try {
            return switch (ImageFormat.detect(firmware.kernel(), memoryBytes)) {
                case ImageFormat.ElfPvhKernel k -> true;
                case ImageFormat.LinuxBzImage k -> true;
                default -> false;
            };
        } catch (RuntimeException e) {
            return false; // the loader reports what is wrong with the file
        }
    }

    private static final Logger log = LoggerFactory.getLogger(VmAssembler.class);

    static VirtualMachine build(MachineSpec spec, Hypervisor hypervisor) throws UsageException {
        DeviceCatalog catalog = DeviceCatalog.standard(spec.lpcPorts());
        // The one choice of CPU template: the vCPUs' CPUID comes from it, the Linux command line's additions too.
        CpuTemplate template = spec.cpuTemplate().orElseGet(() -> {
            CpuTemplate chosen = CpuTemplate.forHost(hypervisor.hasHardwareVirtualization());
            if (!chosen.kernelParameters().isEmpty() && isLinux(spec.firmware(), spec.memoryBytes())) {
                log.warn("this host's KVM has no VMX/SVM: CPU template '{}' adds kernel parameters \"{}\" (--cpu-template pvm asks for it without this warning)",
                        chosen.name(), chosen.kernelParameters());
            }
            return chosen;
        });
        VmBuilder builder = VmBuilder.on(hypervisor)
                .memory(spec.memoryBytes())
                .topology(spec.topology())
                .wiredMemory(spec.wiredMemory())
                .exitOnUnhandledIo(spec.exitOnUnhandledIo())
                .cpuTemplate(template)
                .irqchip(spec.interrupts())
                .mmioCrossCheck(spec.mmioCrossCheck())
                .boot(new KexecLoader(spec.firmware().kernel(), spec.firmware().initrd(), spec.firmware().cmdline(), spec.acpi(), template, spec.mpTable()));
        spec.uuid().ifPresent(builder::uuid);
        spec.trace().ifPresent(builder::trace);
        spec.gdb().ifPresent(g -> g.applyTo(builder));
        for (PciSlotNode slot : spec.slots()) {
            DeviceCatalog.Emulation emulation = catalog.lookup(slot.emulation()).filter(DeviceCatalog.Emulation::supported)
                    .orElseThrow(() -> new UsageException(spec.origin(slot.node().key("device")), slot.emulation() + " is not supported yet"));
            PciDeviceFactory factory = emulation.factoryFor(slot.node());
            // Name what set the setting in device errors (the flag, file line or -o), since the device knows only its node.
            builder.pci(slot.address(), slot.emulation(), (machine, address, unused) -> {
                try {
                    return factory.create(machine, address, unused);
                } catch (ConfigException e) {
                    throw new DeviceConfigException(spec.origin(e.key()) + ": " + e.getMessage(), e);
                } catch (DeviceConfigException e) {
                    throw new DeviceConfigException(spec.origin(slot.node().key("device")) + ": " + e.getMessage(), e);
                }
            }, "");
        }
        for (PlatformDevice device : catalog.platformDevices()) builder.platform(device);
        for (PlatformDevice device : spec.testDevices().create()) builder.platform(device);
        return builder.build();
    }
}
