package org.jhyve.devices.block;

/**
 * How a {@link BlockRequest} ended, for the device to turn into its protocol's status (virtio-blk S_OK,
 * S_IOERR, S_UNSUPP; an ATA task file with ABRT, IDNF or UNC).
 */
public enum BlockOutcome {
    /** Done, and durable if it was a flush or a write with force unit access. */
    OK,
    /** The guest got it wrong (a range past the end or not in whole sectors, too large, malformed); nothing was done. */
    GUEST_ERROR,
    /** A write, discard or write-zeroes on a read-only disk; nothing was done. */
    READ_ONLY,
    /** The host failed it (an I/O error, a full disk, a failed sync); part of a write may have landed. */
    HOST_ERROR,
    /** A request of a kind the device does not implement. */
    UNSUPPORTED
}
