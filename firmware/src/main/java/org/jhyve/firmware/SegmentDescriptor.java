package org.jhyve.firmware;

import org.jhyve.hv.Segment;

/**
 * Encodes a {@link Segment} as the GDT descriptor a CPU would load it from, so the GDT jhyve writes and
 * the segment registers it sets come from the same records and cannot disagree.
 */
final class SegmentDescriptor {
    private SegmentDescriptor() {}

    /** The 8-byte descriptor of a code or data segment (S=1), or the low half of a system descriptor. */
    static long encode(Segment segment) {
        long limit = segment.g() ? Integer.toUnsignedLong(segment.limit()) >>> 12 : Integer.toUnsignedLong(segment.limit());
        if (limit > 0xfffff) throw new IllegalArgumentException("segment limit does not fit 20 bits: " + segment);
        long base = segment.base() & 0xffff_ffffL;
        long access = segment.type() & 0xf
                | (segment.s() ? 1 : 0) << 4
                | (segment.dpl() & 3) << 5
                | (segment.present() ? 1 : 0) << 7;
        long flags = (segment.avl() ? 1 : 0)
                | (segment.l() ? 1 : 0) << 1
                | (segment.db() ? 1 : 0) << 2
                | (segment.g() ? 1 : 0) << 3;
        return (limit & 0xffff)
                | (base & 0xff_ffff) << 16
                | access << 40
                | (limit >>> 16) << 48
                | flags << 52
                | (base >>> 24) << 56;
    }

    /** The 16-byte descriptor of a 64-bit system segment (TSS, LDT): low half, then base bits 63-32. */
    static long[] encodeSystem64(Segment segment) {
        if (segment.s()) throw new IllegalArgumentException("not a system segment: " + segment);
        return new long[] {encode(segment), segment.base() >>> 32};
    }
}
