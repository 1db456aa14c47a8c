package org.jhyve.cli;

import org.jhyve.devices.DeviceCatalog;
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

    static VirtualMachine build(MachineSpec spec, Hypervisor hypervisor) throws UsageException {
        DeviceCatalog catalog = DeviceCatalog.standard(spec.lpcPorts());
        VmBuilder builder = VmBuilder.on(hypervisor)
                .memory(spec.memoryBytes())
                .vcpus(spec.vcpus())
                .exitOnUnhandledIo(spec.exitOnUnhandledIo())
                .boot(new KexecLoader(spec.firmware().kernel(), spec.firmware().initrd(), spec.firmware().cmdline(), spec.acpi()));
        for (PciSlotSpec slot : spec.slots()) {
            PciDeviceFactory factory = catalog.find(slot.emulation())
                    .orElseThrow(() -> new UsageException(slot.flag(), slot.emulation() + " is not supported yet"));
            // Name the flag in device errors, since the device itself only knows its options.
            builder.pci(slot.address(), slot.emulation(), (machine, address, options) -> {
                try {
                    return factory.create(machine, address, options);
                } catch (DeviceConfigException e) {
                    throw new DeviceConfigException(slot.flag() + ": " + e.getMessage(), e);
                }
            }, slot.options());
        }
        for (PlatformDevice device : catalog.platformDevices()) builder.platform(device);
        return builder.build();
    }
}
