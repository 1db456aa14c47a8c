package org.jhyve.devices.virtio;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.hv.Doorbell;
import org.jhyve.hv.SoftwareDoorbell;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;

/**
 * A virtio-blk device activated on {@code n} queues of heap guest memory, each served by the device's own
 * {@link QueueWorker} thread, and the driver's side of each queue ({@link VirtqueueDriver}): requests are
 * queued as a driver queues them, the queue's doorbell rung, and completions polled from the used ring.
 * What the transport would do on DEVICE_NEEDS_RESET is recorded in {@link #failures}.
 */
final class BlockQueueHarness implements VirtioQueues, AutoCloseable {
    static final int QUEUE_SIZE = 32;
    static final long TIMEOUT_NANOS = 10_000_000_000L;

    /** A request in flight: where its status byte and data are, and its chain head. */
    record Pending(int queue, int head, long statusAt, long dataAt) {}

    final GuestMemory memory = SegmentGuestMemory.onHeap(8 << 20);
    final List<VirtqueueDriver> drivers = new ArrayList<>();
    final List<SplitQueue> queues = new ArrayList<>();
    final List<SoftwareDoorbell> doorbells = new ArrayList<>();
    final List<String> failures = new CopyOnWriteArrayList<>();
    final AtomicInteger workersStopped = new AtomicInteger();
    final VirtioBlock device;

    BlockQueueHarness(VirtioBlock device, int count) throws VirtqueueException {
        this.device = device;
        for (int q = 0; q < count; q++) {
            VirtqueueDriver d = new VirtqueueDriver(memory, 0x1000L * (q + 1), QUEUE_SIZE, (1L << 20) * (q + 1), (1L << 20) * (q + 2));
            drivers.add(d);
            queues.add(new SplitQueue(memory, d.layout(), false, false));
            doorbells.add(new SoftwareDoorbell());
        }
        device.activate(this);
    }

    @Override public GuestMemory memory() { return memory; }

    @Override public long features() { return 0; }

    @Override public int count() { return queues.size(); }

    @Override public SplitQueue queue(int index) { return queues.get(index); }

    @Override public Doorbell doorbell(int index) { return doorbells.get(index); }

    @Override public void interrupt(int index) {}

    @Override public void fail(String reason) { failures.add(reason); }

    @Override public void workerStopped() { workersStopped.incrementAndGet(); }

    /** Queues a request (header, optional data, status) on {@code queue} and rings its doorbell. */
    Pending submit(int queue, int type, long sector, byte[] out, int inLength) {
        Pending p = post(queue, type, sector, out, inLength);
        ring(queue);
        return p;
    }

    /** Rings {@code queue}'s doorbell, as a driver notifies after queueing several requests. */
    void ring(int queue) {
        VarHandle.fullFence();
        doorbells.get(queue).ring();
    }

    /** Waits until {@code count} more chains of {@code queue} are on the used ring, in the order the device put them there. */
    List<VirtqueueDriver.Used> awaitUsed(int queue, int count) {
        VirtqueueDriver d = drivers.get(queue);
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        List<VirtqueueDriver.Used> got = new ArrayList<>();
        while (got.size() < count) {
            VirtqueueDriver.Used used = d.nextUsed();
            if (used != null) {
                got.add(used);
                continue;
            }
            if (System.nanoTime() > deadline) throw new AssertionError(got.size() + " of " + count + " completions on queue " + queue + "; failures: " + failures);
            Thread.onSpinWait();
            VarHandle.fullFence();
        }
        return got;
    }

    /** The status byte the device wrote for {@code p} (0x7f until it did). */
    int status(Pending p) {
        return memory.readByte(p.statusAt());
    }

    /** Queues a request as {@link #submit} does, without ringing the doorbell. */
    Pending post(int queue, int type, long sector, byte[] out, int inLength) {
        VirtqueueDriver d = drivers.get(queue);
        long header = d.allocate(16);
        memory.write(header, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector).array());
        List<VirtqueueDriver.Buf> bufs = new ArrayList<>();
        bufs.add(VirtqueueDriver.Buf.in(header, 16));
        long dataAt = 0;
        if (out != null) {
            dataAt = d.allocate(out);
            bufs.add(VirtqueueDriver.Buf.in(dataAt, out.length));
        } else if (inLength > 0) {
            dataAt = d.allocate(inLength);
            bufs.add(VirtqueueDriver.Buf.out(dataAt, inLength));
        }
        long status = d.allocate(1);
        memory.writeByte(status, (byte) 0x7f);
        bufs.add(VirtqueueDriver.Buf.out(status, 1));
        int head = d.addChain(bufs);
        return new Pending(queue, head, status, dataAt);
    }

    /**
     * Waits for the next completion on the request's queue and returns its status: for a test that waits for each
     * request before it queues the next (requests queued together may complete in any order: {@link #awaitUsed}).
     */
    int await(Pending p) {
        VirtqueueDriver d = drivers.get(p.queue());
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        VirtqueueDriver.Used used;
        while ((used = d.nextUsed()) == null) {
            if (System.nanoTime() > deadline) throw new AssertionError("no completion on queue " + p.queue() + "; failures: " + failures);
            Thread.onSpinWait();
            VarHandle.fullFence();
        }
        if (used.head() != p.head()) throw new AssertionError("completed head " + used.head() + ", expected " + p.head());
        return memory.readByte(p.statusAt());
    }

    /** Submits and waits: the request's status. */
    int run(int queue, int type, long sector, byte[] out, int inLength) {
        return await(submit(queue, type, sector, out, inLength));
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte) (seed + i * 7);
        return b;
    }

    @Override
    public void close() {
        doorbells.forEach(SoftwareDoorbell::close);
        device.reset();
    }
}
