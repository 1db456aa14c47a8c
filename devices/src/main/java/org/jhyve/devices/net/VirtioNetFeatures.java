package org.jhyve.devices.net;

/** virtio-net feature bits (virtio 1.2, 5.1.3) jhyve uses, and the offload set a vnet-header backend serves. */
public final class VirtioNetFeatures {
    public static final int CSUM = 0, GUEST_CSUM = 1, MAC = 5, GUEST_TSO4 = 7, GUEST_TSO6 = 8, GUEST_ECN = 9;
    public static final int HOST_TSO4 = 11, HOST_TSO6 = 12, HOST_ECN = 13, MRG_RXBUF = 15, STATUS = 16;
    public static final int CTRL_VQ = 17, CTRL_RX = 18, MQ = 22, CTRL_MAC_ADDR = 23;

    /** Checksum and segmentation offloads both ways: only with a backend that carries the vnet header. */
    public static final long OFFLOADS = 1L << CSUM | 1L << GUEST_CSUM | 1L << GUEST_TSO4 | 1L << GUEST_TSO6 | 1L << GUEST_ECN
            | 1L << HOST_TSO4 | 1L << HOST_TSO6 | 1L << HOST_ECN;

    private VirtioNetFeatures() {}
}
