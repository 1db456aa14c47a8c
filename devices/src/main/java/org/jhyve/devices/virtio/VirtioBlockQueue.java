package org.jhyve.devices.virtio;

import org.jhyve.devices.block.BlockEngine;
import org.jhyve.devices.block.BlockRequest;

/**
 * How one virtio-blk queue's chains are served: each is parsed on the queue's worker and handed to the disk's
 * {@link BlockEngine} without waiting, so a guest's requests overlap in the host as they do on a real disk; the
 * engine answers each one ({@link BlockChainRequest}) and hands its chain back to the worker, in any order. A
 * request alone on the queue is run by the worker itself, as all were before: at queue depth 1 the hand-overs
 * to an I/O thread and back would cost more than they can overlap (measured on a 2-core host: 4.7k instead of
 * 16k 4 KiB reads per second).
 *
 * <p>A FLUSH waits for every request of its queue started before it, then syncs: it makes durable at least every
 * write the guest saw complete before it sent the flush (virtio 1.2, 5.2.6.2), and also every write it had merely
 * sent before it, as when the queue ran one request at a time. Requests of other queues need no waiting: those
 * that completed before the flush are covered by the backend's flush itself, which syncs every write completed
 * before it on any thread.
 *
 * <p>Threading: {@link QueueWorker.AsyncHandler}'s; one per queue and activation, used by that queue's worker.
 */
final class VirtioBlockQueue implements QueueWorker.AsyncHandler {
    private final VirtioBlock device;
    private final BlockEngine engine;
    /** Per worker slot, made when the slot is first used. */
    private final BlockChainRequest[] requests;
    private final byte[] type = new byte[4];

    VirtioBlockQueue(VirtioBlock device, BlockEngine engine, int queueSize) {
        this.device = device;
        this.engine = engine;
        this.requests = new BlockChainRequest[queueSize];
    }

    @Override
    public boolean waitsForEarlier(DescriptorChain chain) {
        if (chain.readable().length() < BlockChainRequest.HEADER) return false;
        chain.readable().read(0, type);
        return BlockChainRequest.littleEndianInt(type, 0) == VirtioBlock.T_FLUSH;
    }

    @Override
    public void batchBegin() {
        engine.beginBatch();
    }

    @Override
    public void batchEnd() {
        engine.endBatch();
    }

    /** A request alone on its queue runs right here, on the worker (see {@link QueueWorker.AsyncHandler#start}). */
    @Override
    public void start(DescriptorChain chain, InFlightChain slot, boolean alone) {
        BlockChainRequest r = requests[slot.slot];
        if (r == null) r = requests[slot.slot] = new BlockChainRequest(device);
        BlockRequest toRun = r.begin(chain, slot);
        if (toRun == null) {
            slot.complete(r.written());
        } else if (alone) {
            r.completed(device.executor().execute(toRun));
        } else {
            engine.submit(toRun, r);
        }
    }
}
