package org.jhyve.devices.virtio;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.memory.GuestMemory;

/**
 * The buffers of one direction of a descriptor chain seen as one byte stream: drivers may split a header
 * or a payload across descriptors anywhere (virtio 1.2, 2.6.4 "message framing"), so devices read and
 * write by stream offset. {@link #slices} gives zero-copy views for file I/O.
 */
public final class GuestBuffers {
    private final GuestMemory memory;
    private final List<Descriptor> descriptors;
    private final long length;

    public GuestBuffers(GuestMemory memory, List<Descriptor> descriptors) {
        this.memory = memory;
        this.descriptors = List.copyOf(descriptors);
        long total = 0;
        for (Descriptor d : this.descriptors) total += Integer.toUnsignedLong(d.length());
        this.length = total;
    }

    /** Total bytes over all buffers. */
    public long length() { return length; }

    public List<Descriptor> descriptors() { return descriptors; }

    /** Copies stream bytes {@code [offset, offset+dst.length)} out of guest memory. */
    public void read(long offset, byte[] dst) {
        int done = 0;
        for (MemorySegment s : slices(offset, dst.length)) {
            MemorySegment.copy(s, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, dst, done, (int) s.byteSize());
            done += (int) s.byteSize();
        }
    }

    /** Copies {@code src} into stream bytes {@code [offset, offset+src.length)}. */
    public void write(long offset, byte[] src) {
        int done = 0;
        for (MemorySegment s : slices(offset, src.length)) {
            MemorySegment.copy(src, done, s, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (int) s.byteSize());
            done += (int) s.byteSize();
        }
    }

    /**
     * Views of guest memory covering stream bytes {@code [offset, offset+len)}, in order, one per buffer touched.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the stream
     */
    public List<MemorySegment> slices(long offset, long len) {
        if (offset < 0 || len < 0 || offset > length || len > length - offset) {
            throw new IndexOutOfBoundsException("bytes [" + offset + ", +" + len + ") of a " + length + "-byte chain");
        }
        List<MemorySegment> out = new ArrayList<>();
        long skip = offset, left = len;
        for (Descriptor d : descriptors) {
            if (left == 0) break;
            long dlen = Integer.toUnsignedLong(d.length());
            if (skip >= dlen) {
                skip -= dlen;
                continue;
            }
            long take = Math.min(dlen - skip, left);
            out.add(memory.slice(d.address() + skip, take));
            skip = 0;
            left -= take;
        }
        return out;
    }
}
