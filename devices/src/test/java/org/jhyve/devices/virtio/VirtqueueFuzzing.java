package org.jhyve.devices.virtio;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.util.List;
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
     * descriptor table come first, so that they lie in the few KiB of RAM image an input carries; the used ring,
     * which only the device writes, lies beyond.
     */
    static final long AVAIL = 0x0000, DESC = 0x0400, USED = 0x8000;

    private VirtqueueFuzzing() {}

    static QueueLayout layout(FuzzedDataProvider data) {
        // A power of two up to 256 mostly; sometimes any size, to reach the constructor's checks.
        int size = data.consumeBoolean() ? 1 << data.consumeInt(0, 8) : data.consumeInt(0, 70000);
        if (data.consumeInt(0, 7) != 0) return new QueueLayout(size, DESC, AVAIL, USED);
        return new QueueLayout(size, data.consumeLong(0, 0x40000), data.consumeLong(0, 0x40000), data.consumeLong(0, 0x40000));
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
}
