package org.jhyve.devices.net;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Where a virtual NIC's frames go and come from: a tap interface, a socket. Frames are read into and written
 * from views of guest memory. When {@link #vnetHeader()} is true, every frame carries the 12-byte
 * virtio_net_hdr in front (tap with IFF_VNET_HDR passes checksum and segmentation offloads through it).
 */
public interface NetBackend extends AutoCloseable {
    /** Whether frames carry a virtio_net_hdr_v1 (12 bytes) in front. */
    boolean vnetHeader();

    /** virtio-net feature bits the backend can serve (offloads need the vnet header). */
    long offloadFeatures();

    /** The guest negotiated {@code features}: turn on the receive offloads it accepts. */
    default void enableOffloads(long features) throws IOException {}

    /**
     * One queue of a multi-queue backend: whether the guest uses its queue pair ({@code VQ_PAIRS_SET}). A
     * backend that spreads frames over queues must then stop handing frames to a disabled one.
     */
    default void setQueueEnabled(boolean enabled) throws IOException {}

    /**
     * Waits up to {@code timeoutMillis} for a frame to read; false on timeout or after {@link #wakeReceiver}.
     * Throws when the backend has failed (a tap whose interface was deleted), rather than return false at once:
     * a false return tells the device the backend works and has nothing for it.
     */
    boolean awaitReadable(int timeoutMillis) throws IOException;

    /**
     * Makes an {@link #awaitReadable} in progress (or the next one, if none is) return at once, so that a
     * device stopping its receive thread need not wait out the timeout: a device reset, or the VM's end.
     */
    void wakeReceiver();

    /**
     * Reads one frame into {@code buffers}, header first when {@link #vnetHeader()}; returns its length, 0 when
     * none is waiting. A frame longer than the buffers is cut (and counted by the caller).
     */
    int receive(List<MemorySegment> buffers) throws IOException;

    /** Sends one frame gathered from {@code buffers} (header first when {@link #vnetHeader()}). */
    void send(List<MemorySegment> buffers) throws IOException;

    /**
     * Whether the link has failed for good (its peer is gone): then {@link #awaitReadable} throws, and the receive
     * side reports the link going down, once; a send that fails meanwhile is only counted. Any thread.
     */
    default boolean failed() { return false; }

    /** What {@code -s ...,virtio-net,...} called it, for messages. */
    String describe();

    @Override
    void close();
}
