package org.jhyve.vm;

import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciDevice;

/**
 * Makes a PCI device from its {@code -s} configuration string (the part after the emulation name,
 * empty when there is none). Throws {@link DeviceConfigException} for a bad option.
 */
@FunctionalInterface
public interface PciDeviceFactory {
    PciDevice create(MachineContext machine, PciAddress address, String options);
}
