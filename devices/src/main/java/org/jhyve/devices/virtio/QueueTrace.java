package org.jhyve.devices.virtio;

import org.jhyve.trace.TraceEvent;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;

/** Which queue of which device a {@link SplitQueue} is, for its {@code virtq} trace lines. */
public record QueueTrace(Tracer tracer, String device, int queue) {
    /** For queues outside a traced machine (tests, tools). */
    public static QueueTrace none() {
        return new QueueTrace(Tracer.off(), "virtio", 0);
    }

    /** Records a chain taken off the available ring: its head, descriptor count and total bytes. */
    void popped(DescriptorChain chain, int descriptors) {
        if (!tracer.enabled(TraceKind.VIRTQ)) return;
        long bytes = chain.readable().length() + chain.writable().length();
        tracer.record(new TraceEvent.VirtqueueChain(queue, chain.head(), descriptors, bytes, device));
    }
}
