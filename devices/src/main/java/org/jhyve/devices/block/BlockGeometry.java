package org.jhyve.devices.block;

/**
 * How a device addresses its disk: the sector its requests count in ({@code sectorSize} bytes: 512 for
 * virtio-blk whatever its logical block, the logical sector for ATA), how many of them the guest sees, and the
 * most one request may cover: {@code maxTransferBytes} of data for a read, write or verify, {@code maxRangeBytes}
 * for one range of a discard or write-zeroes.
 */
public record BlockGeometry(int sectorSize, long sectors, long maxTransferBytes, long maxRangeBytes) {
    public BlockGeometry {
        if (sectorSize <= 0 || sectors < 0 || maxTransferBytes < 0 || maxRangeBytes < 0) {
            throw new IllegalArgumentException("sector size " + sectorSize + ", " + sectors + " sectors, limits "
                    + maxTransferBytes + "/" + maxRangeBytes);
        }
    }
}
