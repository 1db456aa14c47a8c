package org.jhyve.devices.virtio;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the virtio PCI transport puts its structures (virtio 1.2, 4.1.4): BAR0's fixed layout, the vendor
 * capabilities that point the driver at each structure, and the decoding of the PCI-configuration access window
 * (VIRTIO_PCI_CAP_PCI_CFG), through which a driver reaches BAR0 by configuration cycles. Pure layout: no state.
 */
final class VirtioPciLayout {
    /** The BAR holding every structure: BAR0, 32 KiB of 32-bit memory. */
    static final int BAR = 0, BAR_SIZE = 0x8000;
    // Offsets in BAR0.
    static final int COMMON = 0x0000, ISR = 0x1000, DEVICE_CONFIG = 0x2000, NOTIFY = 0x3000;
    static final int MSIX_TABLE = 0x4000, MSIX_PBA = 0x5000;
    /** notify_off_multiplier: bytes between two queues' notify addresses (a queue's queue_notify_off is its index). */
    static final int NOTIFY_MULTIPLIER = 4;

    /** PCI capability ID of the vendor-specific capabilities virtio uses. */
    static final int CAP_VENDOR = 0x09;
    // struct virtio_pci_cap: offsets in the capability (ID and next pointer at 0 and 1).
    static final int CAP_LEN = 2, CFG_TYPE = 3, CAP_BAR = 4, CAP_OFFSET = 8, CAP_LENGTH = 12;
    /** Bytes of struct virtio_pci_cap. */
    static final int CAP_SIZE = 16;
    /** After it: virtio_pci_notify_cap's notify_off_multiplier and virtio_pci_cfg_cap's pci_cfg_data, 4 bytes each. */
    static final int NOTIFY_OFF_MULTIPLIER = 16, PCI_CFG_DATA = 16, EXTENDED_CAP_SIZE = 20;
    // cfg_type: which structure a capability points at.
    static final int CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4, CFG_PCI = 5;

    private VirtioPciLayout() {}

    /** One vendor capability: structure {@code type} at {@code offset} in BAR0, {@code length} bytes; the capability is {@code size} bytes. */
    record Capability(int type, int offset, int length, int size) {}

    /**
     * The vendor capabilities of a device with {@code queues} queues and {@code deviceConfigSize} bytes of device
     * configuration, in the order they are chained: common, notify, ISR, device (when it has one), and the PCI
     * configuration window last, whose offset and length the driver writes. MSI-X follows them.
     */
    static List<Capability> capabilities(int queues, int deviceConfigSize) {
        List<Capability> caps = new ArrayList<>();
        caps.add(new Capability(CFG_COMMON, COMMON, CommonConfig.LENGTH, CAP_SIZE));
        caps.add(new Capability(CFG_NOTIFY, NOTIFY, NOTIFY_MULTIPLIER * queues, EXTENDED_CAP_SIZE));
        caps.add(new Capability(CFG_ISR, ISR, 1, CAP_SIZE));
        if (deviceConfigSize > 0) caps.add(new Capability(CFG_DEVICE, DEVICE_CONFIG, deviceConfigSize, CAP_SIZE));
        caps.add(new Capability(CFG_PCI, 0, 0, EXTENDED_CAP_SIZE));
        return caps;
    }

    /** A BAR0 access the PCI configuration window makes: {@code length} bytes at {@code offset}. */
    record WindowAccess(int offset, int length) {}

    /**
     * The access the driver set up in the PCI_CFG capability (its bar, offset and length fields, guest values), or
     * null unless it is a valid one into BAR0: 1, 2 or 4 bytes, aligned, inside the BAR (computed without overflow:
     * an offset near 2^31 does not wrap to a small one).
     */
    static WindowAccess window(int bar, int offset, int length) {
        if (bar != BAR || (length != 1 && length != 2 && length != 4) || offset < 0 || offset % length != 0
                || (long) offset + length > BAR_SIZE) {
            return null;
        }
        return new WindowAccess(offset, length);
    }
}
