package org.jhyve.devices.block;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Where a virtual disk's bytes live. Device models (virtio-blk, AHCI) parse the guest's requests and execute
 * them here; offsets and lengths are bytes and already checked against {@link #size()}. Buffers are views of
 * guest memory, so implementations move data without copying it through the Java heap.
 *
 * <p>A call returns normally only when all of it is done: a read or write that moved part of its bytes, or a
 * sync that failed, throws (an {@link IOException}, a {@link HostIoException} with the errno where the host
 * said why), and the device reports an I/O error for that request.
 *
 * <p>Threading rules. Every method may be called from several device threads at once (a virtio-blk disk's I/O
 * threads, many per queue, and its queue workers; an AHCI port worker per port); implementations are thread-safe,
 * and concurrent writes to different sectors never affect each other (two writes to the same sector may land in
 * either order, as the guest issued them concurrently). The data calls ({@link #read}, {@link #write}, {@link
 * #flush}, {@link #discard}, {@link #writeZeroes}) come only from those threads, never from a vCPU thread, and the callers hold no device
 * register lock while they run, so they may block for as long as the host takes. {@link #size} and
 * {@link #readOnly} are constant, asked from any thread. {@link #close} comes at most once, from the thread closing
 * the VM, after the device has stopped its workers or given up waiting for one stuck in a call (virtio-blk after
 * its bounded wait; AHCI then leaves the backend open): an implementation must let such a call finish safely, and
 * never hand its file descriptor to another file under it.
 */
public interface BlockBackend extends AutoCloseable {
    /** Capacity in bytes. */
    long size();

    boolean readOnly();

    void read(long offset, List<MemorySegment> buffers) throws IOException;

    void write(long offset, List<MemorySegment> buffers) throws IOException;

    /**
     * Makes every write that completed before this call, on any thread, durable (survives a host crash or a
     * kill of the VMM). Once a flush has failed, every later one fails too: the writes it should have made
     * durable may be lost, and a later success would tell the guest otherwise.
     */
    void flush() throws IOException;

    /** The guest no longer needs these bytes: free the space if the host can (reads may then return anything). */
    void discard(long offset, long length) throws IOException;

    /** Makes the bytes read as zeroes; {@code mayUnmap} lets the host free the space as well. */
    void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException;

    /** Releases the backend after making completed writes durable. */
    @Override
    void close() throws IOException;
}
