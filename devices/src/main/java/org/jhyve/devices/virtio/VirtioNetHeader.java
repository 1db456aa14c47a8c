package org.jhyve.devices.virtio;

import org.jhyve.devices.net.VirtioNetFeatures;

/**
 * The virtio_net_hdr_v1 in front of every frame (virtio 1.2, 5.1.6), as the driver wrote it for a frame it
 * transmits, and the rules such a header must keep before the frame goes to a backend: offloads only where
 * negotiated, and every offset the host kernel will follow inside the frame.
 */
record VirtioNetHeader(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset) {
    static final int SIZE = 12;
    static final int F_NEEDS_CSUM = 1, F_DATA_VALID = 2;
    static final int GSO_NONE = 0, GSO_TCPV4 = 1, GSO_UDP = 3, GSO_TCPV6 = 4, GSO_UDP_L4 = 5, GSO_ECN = 0x80;

    /** The header in the first {@value #SIZE} bytes of {@code bytes} (little-endian fields; num_buffers ignored). */
    static VirtioNetHeader parse(byte[] bytes) {
        return new VirtioNetHeader(bytes[0] & 0xff, bytes[1] & 0xff, u16(bytes, 2), u16(bytes, 4), u16(bytes, 6), u16(bytes, 8));
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
    }

    /**
     * Why a frame of {@code frameLength} bytes after this header must not be sent, given the {@code features} both
     * sides agreed on; null when it may. The host kernel checks these again (tun refuses them with EINVAL), but a
     * backend without a vnet header would pass a segmentation request on as a frame nobody segments.
     */
    String problem(long features, int frameLength) {
        if ((flags & ~(F_NEEDS_CSUM | F_DATA_VALID)) != 0) return String.format("unknown header flags 0x%x", flags);
        if ((flags & F_NEEDS_CSUM) != 0) {
            if (!has(features, VirtioNetFeatures.CSUM)) return "checksum offload requested without VIRTIO_NET_F_CSUM";
            if (csumStart + csumOffset + 2 > frameLength) {
                return String.format("checksum at %d+%d lies beyond the %d-byte frame", csumStart, csumOffset, frameLength);
            }
        }
        int type = gsoType & ~GSO_ECN;
        if (type == GSO_NONE) return (gsoType & GSO_ECN) != 0 ? "ECN flag without segmentation" : null;
        switch (type) {
            case GSO_TCPV4 -> {
                if (!has(features, VirtioNetFeatures.HOST_TSO4)) return "TCPv4 segmentation without VIRTIO_NET_F_HOST_TSO4";
            }
            case GSO_TCPV6 -> {
                if (!has(features, VirtioNetFeatures.HOST_TSO6)) return "TCPv6 segmentation without VIRTIO_NET_F_HOST_TSO6";
            }
            default -> {
                return String.format("segmentation type %d was not offered", type);
            }
        }
        if ((gsoType & GSO_ECN) != 0 && !has(features, VirtioNetFeatures.HOST_ECN)) return "ECN segmentation without VIRTIO_NET_F_HOST_ECN";
        if (gsoSize == 0) return "segmentation with gso_size 0";
        if (hdrLen > frameLength) return String.format("hdr_len %d exceeds the %d-byte frame", hdrLen, frameLength);
        return null;
    }

    private static boolean has(long features, int bit) {
        return (features & 1L << bit) != 0;
    }
}
