package org.jhyve.devices.virtio;

/** Device status bits (virtio 1.2, 2.1) and the transport-level feature bits jhyve offers (6). */
public final class VirtioStatus {
    public static final int ACKNOWLEDGE = 1, DRIVER = 2, DRIVER_OK = 4, FEATURES_OK = 8;
    public static final int DEVICE_NEEDS_RESET = 0x40, FAILED = 0x80;

    public static final int F_INDIRECT_DESC = 28, F_EVENT_IDX = 29, F_VERSION_1 = 32;

    private VirtioStatus() {}
}
