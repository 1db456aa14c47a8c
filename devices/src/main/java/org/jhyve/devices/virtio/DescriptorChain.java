package org.jhyve.devices.virtio;

import java.util.List;

/**
 * A request as the driver queued it: the head descriptor's index (what goes back in the used ring) and its
 * buffers, the device-readable ones first, then the device-writable ones.
 */
public record DescriptorChain(int head, GuestBuffers readable, GuestBuffers writable) {
    public static DescriptorChain of(int head, List<Descriptor> descriptors, org.jhyve.memory.GuestMemory memory) {
        int firstWritable = 0;
        while (firstWritable < descriptors.size() && !descriptors.get(firstWritable).writable()) firstWritable++;
        return new DescriptorChain(head,
                new GuestBuffers(memory, descriptors.subList(0, firstWritable)),
                new GuestBuffers(memory, descriptors.subList(firstWritable, descriptors.size())));
    }
}
