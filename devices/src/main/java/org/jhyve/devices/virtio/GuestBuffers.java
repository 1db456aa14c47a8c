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
        copy(offset, dst, false);
    }

    /** Copies {@code src} into stream bytes {@code [offset, offset+src.length)}. */
    public void write(long offset, byte[] src) {
        copy(offset, src, true);
    }

    /** Writes one byte at stream offset {@code offset} (a status byte), allocating nothing. */
    public void writeByte(long offset, byte value) {
        checkRange(offset, 1);
        long skip = offset;
        for (Descriptor d : descriptors) {
            long dlen = Integer.toUnsignedLong(d.length());
            if (skip < dlen) {
                memory.writeByte(d.address() + skip, value);
                return;
            }
            skip -= dlen;
        }
    }

    /**
     * Copies through {@link GuestMemory#read}/{@link GuestMemory#write} (not through slices): each access checked
     * again, and visible as a write to a memory that watches them.
     */
    private void copy(long offset, byte[] bytes, boolean toGuest) {
        checkRange(offset, bytes.length);
        long skip = offset;
        int done = 0;
        for (Descriptor d : descriptors) {
            if (done == bytes.length) break;
            long dlen = Integer.toUnsignedLong(d.length());
            if (skip >= dlen) {
                skip -= dlen;
                continue;
            }
            int take = (int) Math.min(dlen - skip, bytes.length - done);
            if (toGuest) memory.write(d.address() + skip, bytes, done, take);
            else memory.read(d.address() + skip, bytes, done, take);
            done += take;
            skip = 0;
        }
    }

    private void checkRange(long offset, long len) {
        if (offset < 0 || len < 0 || offset > length || len > length - offset) {
            throw new IndexOutOfBoundsException("bytes [" + offset + ", +" + len + ") of a " + length + "-byte chain");
        }
    }

    /**
     * Views of guest memory covering stream bytes {@code [offset, offset+len)}, in order, one per buffer touched.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the stream
     */
    public List<MemorySegment> slices(long offset, long len) {
        checkRange(offset, len);
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
