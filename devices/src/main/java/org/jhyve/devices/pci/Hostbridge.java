package org.jhyve.devices.pci;

import org.jhyve.pci.PciFunction;

/**
 * The PCI host bridge at 0:0:0: no BARs, no interrupts, just an identity so the guest's PCI scan finds a
 * root. The IDs are bhyve's (and xhyve's), so guests see what they would on those.
 */
public final class Hostbridge extends PciFunction {
    public static final int VENDOR = 0x1275;
    public static final int DEVICE = 0x1275;
    /** Base class 0x06 (bridge), subclass 0x00 (host bridge). */
    public static final int CLASS_HOST_BRIDGE = 0x060000;

    /** bhyve's AMD flavour ({@code amd_hostbridge}), for guests that look for an AMD root complex. */
    public static final int AMD_VENDOR = 0x1022;
    public static final int AMD_DEVICE = 0x7432;

    public Hostbridge() {
        this("hostbridge", VENDOR, DEVICE);
    }

    private Hostbridge(String name, int vendor, int device) {
        super(name, vendor, device, CLASS_HOST_BRIDGE, 0);
    }

    public static Hostbridge amd() {
        return new Hostbridge("amd_hostbridge", AMD_VENDOR, AMD_DEVICE);
    }
}
