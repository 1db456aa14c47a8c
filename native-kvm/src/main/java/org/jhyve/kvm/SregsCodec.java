package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.jhyve.kvm.KvmStructs.*;

import java.lang.foreign.MemorySegment;
import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;

/**
 * {@link SpecialRegisters} to and from {@code kvm_sregs}. Writing leaves {@code interrupt_bitmap} as it is
 * in the segment, so a get-modify-set keeps an interrupt KVM had queued for injection.
 */
final class SregsCodec {
    private SregsCodec() {}

    /** The eight segments, cs ds es fs gs ss tr ldt, lie back to back from offset 0. */
    private static final int SEGMENTS = 8;

    private static long segmentOffset(int i) {
        return i * KVM_SEGMENT.byteSize();
    }

    private static final long GDT = offset(KVM_SREGS, "gdt");
    private static final long IDT = offset(KVM_SREGS, "idt");
    private static final long CR0 = offset(KVM_SREGS, "cr0");
    private static final long CR2 = offset(KVM_SREGS, "cr2");
    private static final long CR3 = offset(KVM_SREGS, "cr3");
    private static final long CR4 = offset(KVM_SREGS, "cr4");
    private static final long CR8 = offset(KVM_SREGS, "cr8");
    private static final long EFER = offset(KVM_SREGS, "efer");
    private static final long APIC_BASE = offset(KVM_SREGS, "apic_base");

    static SpecialRegisters read(MemorySegment s) {
        Segment[] seg = new Segment[SEGMENTS];
        for (int i = 0; i < seg.length; i++) seg[i] = readSegment(s.asSlice(segmentOffset(i), KVM_SEGMENT.byteSize()));
        return new SpecialRegisters(seg[0], seg[1], seg[2], seg[3], seg[4], seg[5], seg[6], seg[7],
                readTable(s.asSlice(GDT, KVM_DTABLE.byteSize())), readTable(s.asSlice(IDT, KVM_DTABLE.byteSize())),
                s.get(JAVA_LONG, CR0), s.get(JAVA_LONG, CR2), s.get(JAVA_LONG, CR3), s.get(JAVA_LONG, CR4),
                s.get(JAVA_LONG, CR8), s.get(JAVA_LONG, EFER), s.get(JAVA_LONG, APIC_BASE));
    }

    static void write(MemorySegment s, SpecialRegisters r) {
        Segment[] seg = {r.cs(), r.ds(), r.es(), r.fs(), r.gs(), r.ss(), r.tr(), r.ldt()};
        for (int i = 0; i < seg.length; i++) writeSegment(s.asSlice(segmentOffset(i), KVM_SEGMENT.byteSize()), seg[i]);
        writeTable(s.asSlice(GDT, KVM_DTABLE.byteSize()), r.gdt());
        writeTable(s.asSlice(IDT, KVM_DTABLE.byteSize()), r.idt());
        s.set(JAVA_LONG, CR0, r.cr0());
        s.set(JAVA_LONG, CR2, r.cr2());
        s.set(JAVA_LONG, CR3, r.cr3());
        s.set(JAVA_LONG, CR4, r.cr4());
        s.set(JAVA_LONG, CR8, r.cr8());
        s.set(JAVA_LONG, EFER, r.efer());
        s.set(JAVA_LONG, APIC_BASE, r.apicBase());
    }

    static Segment readSegment(MemorySegment s) {
        return new Segment(s.get(JAVA_LONG, SEG_BASE), s.get(JAVA_INT, SEG_LIMIT),
                Short.toUnsignedInt(s.get(JAVA_SHORT, SEG_SELECTOR)), Byte.toUnsignedInt(s.get(JAVA_BYTE, SEG_TYPE)),
                flag(s, SEG_PRESENT), Byte.toUnsignedInt(s.get(JAVA_BYTE, SEG_DPL)), flag(s, SEG_DB), flag(s, SEG_S),
                flag(s, SEG_L), flag(s, SEG_G), flag(s, SEG_AVL), flag(s, SEG_UNUSABLE));
    }

    static void writeSegment(MemorySegment s, Segment g) {
        s.fill((byte) 0);
        s.set(JAVA_LONG, SEG_BASE, g.base());
        s.set(JAVA_INT, SEG_LIMIT, g.limit());
        s.set(JAVA_SHORT, SEG_SELECTOR, (short) g.selector());
        s.set(JAVA_BYTE, SEG_TYPE, (byte) g.type());
        s.set(JAVA_BYTE, SEG_PRESENT, bit(g.present()));
        s.set(JAVA_BYTE, SEG_DPL, (byte) g.dpl());
        s.set(JAVA_BYTE, SEG_DB, bit(g.db()));
        s.set(JAVA_BYTE, SEG_S, bit(g.s()));
        s.set(JAVA_BYTE, SEG_L, bit(g.l()));
        s.set(JAVA_BYTE, SEG_G, bit(g.g()));
        s.set(JAVA_BYTE, SEG_AVL, bit(g.avl()));
        s.set(JAVA_BYTE, SEG_UNUSABLE, bit(g.unusable()));
    }

    static DescriptorTable readTable(MemorySegment s) {
        return new DescriptorTable(s.get(JAVA_LONG, DTABLE_BASE), Short.toUnsignedInt(s.get(JAVA_SHORT, DTABLE_LIMIT)));
    }

    static void writeTable(MemorySegment s, DescriptorTable t) {
        s.fill((byte) 0);
        s.set(JAVA_LONG, DTABLE_BASE, t.base());
        s.set(JAVA_SHORT, DTABLE_LIMIT, (short) t.limit());
    }

    private static boolean flag(MemorySegment s, long off) {
        return s.get(JAVA_BYTE, off) != 0;
    }

    private static byte bit(boolean b) {
        return b ? (byte) 1 : 0;
    }
}
