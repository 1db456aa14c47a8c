package org.jhyve.devices.virtio;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.hv.Doorbell;
import org.jhyve.hv.SoftwareDoorbell;
import org.jhyve.memory.GuestMemory;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;
import org.jhyve.fuzz.StepBudgetExceeded;

/**
 * What the virtqueue fuzz targets share: a queue layout from the input, and a synchronous stand-in for
 * {@link QueueWorker}'s loop that serves every chain the driver queued and checks what the worker relies on.
 */
final class VirtqueueFuzzing {
    /**
     * Rings at fixed places in the first RAM region, or anywhere the input says. The available ring and the
     * descriptor table come first, so that they lie in the few hundred bytes of RAM image an input starts with
     * (they overlap for queues over 16 entries, which the device must cope with: both are driver-written); the
     * used ring, which only the device writes, lies beyond.
     */
    static final long AVAIL = 0x0000, DESC = 0x0040, USED = 0x8000;
    /** Bytes of an input before its RAM image. */
    static final int HEADER = 16;

    /**
     * An input of the virtqueue targets: a 16-byte header, then the image of guest RAM from address 0.
     * Header: [0] flags (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 rings where bytes 6-14 say, bit 3 the queue
     * size in bytes 4-5 as given, else 2^(byte 1 mod 9); bits 4-7 the target's), [1] size exponent, [2], [3] and
     * [15] the target's, [4-5] raw size, [6-8] descriptor table, [9-11] available ring, [12-14] used ring
     * (little-endian). A fixed format rather than a data provider's, so that seeds are easy to write by hand.
     */
    record Setup(QueueLayout layout, boolean eventIdx, boolean indirect, int flags, int a, int b, int c, byte[] image) {
        static Setup of(byte[] input) {
            byte[] h = java.util.Arrays.copyOf(input, HEADER);
            int flags = u8(h, 0);
            int size = (flags & 8) != 0 ? u8(h, 4) | u8(h, 5) << 8 : 1 << (u8(h, 1) % 9);
            QueueLayout layout = (flags & 4) != 0
                    ? new QueueLayout(size, u24(h, 6), u24(h, 9), u24(h, 12))
                    : new QueueLayout(size, DESC, AVAIL, USED);
            byte[] image = input.length > HEADER ? java.util.Arrays.copyOfRange(input, HEADER, input.length) : new byte[0];
            return new Setup(layout, (flags & 1) != 0, (flags & 2) != 0, flags, u8(h, 2), u8(h, 3), u8(h, 15), image);
        }

        boolean flag(int bit) { return (flags & 1 << bit) != 0; }

        private static int u8(byte[] b, int i) { return b[i] & 0xff; }

        private static long u24(byte[] b, int i) { return u8(b, i) | u8(b, i + 1) << 8 | (long) u8(b, i + 2) << 16; }
    }

    /** The device's handling of one chain: returns the bytes written into its writable buffers. */
    @FunctionalInterface
    interface Handler {
        int handle(DescriptorChain chain) throws VirtqueueException;
    }

    /**
     * Takes every available chain, hands it to {@code handler} and returns it on the used ring, as the worker does;
     * stops at a {@link VirtqueueException} (documented: the worker then fails the queue). The used length is
     * checked against the chain's writable bytes.
     *
     * @return how many chains were served
     */
    static int serve(FuzzMemory memory, QueueLayout layout, boolean eventIdx, boolean indirect, Findings findings, Handler handler) {
        SplitQueue queue;
        try {
            queue = new SplitQueue(memory, layout, eventIdx, indirect);
        } catch (VirtqueueException e) {
            return 0;
        }
        int served = 0;
        try {
            do {
                queue.disableNotifications();
                DescriptorChain chain;
                // A device writing into the available ring can add chains; the step budget bounds that.
                while ((chain = queue.pop()) != null) {
                    int written = handler.handle(chain);
                    if (Integer.toUnsignedLong(written) > chain.writable().length()) {
                        findings.add("chain " + chain.head() + ": used length " + Integer.toUnsignedLong(written)
                                + " exceeds its " + chain.writable().length() + " writable bytes");
                    }
                    queue.addUsed(chain.head(), written);
                    served++;
                }
            } while (queue.enableNotifications());
            queue.needsInterrupt();
        } catch (VirtqueueException e) {
            // The driver broke the queue: documented, the worker sets DEVICE_NEEDS_RESET.
        } catch (StepBudgetExceeded e) {
            // Recorded by the memory already.
        }
        return served;
    }

    /** The last byte of a chain's writable buffers (where virtio-blk puts the status), read without counting. */
    static int lastWritableByte(FuzzMemory memory, DescriptorChain chain) {
        List<Descriptor> writable = chain.writable().descriptors();
        for (int i = writable.size() - 1; i >= 0; i--) {
            Descriptor d = writable.get(i);
            if (d.length() != 0) return memory.raw().readByte(d.address() + Integer.toUnsignedLong(d.length()) - 1) & 0xff;
        }
        return -1;
    }

    /**
     * What a transport gives an activated device, built by the harness: the queues it made (null for the
     * others), software doorbells that count how often the device waits on them, and a record of
     * {@link #fail} reasons. A reason naming a "device error" is a contained device fault: a finding.
     */
    static final class Queues implements VirtioQueues {
        private final GuestMemory memory;
        private final long features;
        private final SplitQueue[] queues;
        private final CountingDoorbell[] doorbells;
        private final Findings findings;
        final List<String> failures = new ArrayList<>();

        Queues(GuestMemory memory, long features, SplitQueue[] queues, Findings findings) {
            this.memory = memory;
            this.features = features;
            this.queues = queues;
            this.findings = findings;
            this.doorbells = new CountingDoorbell[queues.length];
            for (int i = 0; i < queues.length; i++) doorbells[i] = new CountingDoorbell();
        }

        @Override public GuestMemory memory() { return memory; }

        @Override public long features() { return features; }

        @Override public int count() { return queues.length; }

        @Override public SplitQueue queue(int index) { return queues[index]; }

        @Override public CountingDoorbell doorbell(int index) { return doorbells[index]; }

        @Override public void interrupt(int index) { }

        @Override
        public synchronized void fail(String reason) {
            failures.add(reason);
            if (reason.contains("device error")) findings.add("device fault contained as a queue failure: " + reason);
        }

        void closeDoorbells() {
            for (CountingDoorbell d : doorbells) d.close();
        }
    }

    /** A software doorbell that counts the waits on it: a device waiting there has nothing it can do. */
    static final class CountingDoorbell implements Doorbell {
        private final SoftwareDoorbell bell = new SoftwareDoorbell();
        private final java.util.concurrent.atomic.AtomicInteger waits = new java.util.concurrent.atomic.AtomicInteger();

        int waits() { return waits.get(); }

        @Override public void ring() { bell.ring(); }

        @Override
        public boolean await() throws InterruptedException {
            waits.incrementAndGet();
            return bell.await();
        }

        @Override public void close() { bell.close(); }
    }
}
