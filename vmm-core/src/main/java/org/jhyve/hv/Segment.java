package org.jhyve.hv;

/** A segment register in its cached (descriptor) form, as kvm_segment holds it. */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl,
                      boolean db, boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    /** A 64-bit code segment (L=1), as long mode wants for CS. */
    public static Segment code64(int selector) {
        return new Segment(0, 0xffffffff, selector, 0xb, true, 0, false, true, true, true, false, false);
    }

    /** A flat 32-bit code segment. */
    public static Segment code32(int selector) {
        return new Segment(0, 0xffffffff, selector, 0xb, true, 0, true, true, false, true, false, false);
    }

    /** A flat read/write data segment. */
    public static Segment data(int selector) {
        return new Segment(0, 0xffffffff, selector, 0x3, true, 0, true, true, false, true, false, false);
    }

    /** The same segment at {@code newBase} (what writing FS.base or GS.base through an MSR does). */
    public Segment withBase(long newBase) {
        return new Segment(newBase, limit, selector, type, present, dpl, db, s, l, g, avl, unusable);
    }

    /** A real-mode segment: base = selector * 16, 64 KiB limit. */
    public static Segment realMode(int selector, int type) {
        return new Segment((long) selector << 4, 0xffff, selector, type, true, 0, false, true, false, false, false, false);
    }
}
