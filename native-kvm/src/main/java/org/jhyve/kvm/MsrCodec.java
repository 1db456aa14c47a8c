package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.jhyve.kvm.KvmStructs.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.hv.MsrEntry;

/** {@link MsrEntry} lists to and from {@code kvm_msrs}: an 8-byte header, then {@code nmsrs} entries. */
final class MsrCodec {
    private MsrCodec() {}

    static MemorySegment encode(SegmentAllocator allocator, List<MsrEntry> msrs) {
        MemorySegment s = allocator.allocate(KVM_MSRS.byteSize() + msrs.size() * KVM_MSR_ENTRY.byteSize(),
                KVM_MSRS.byteAlignment());
        s.set(JAVA_INT, MSRS_NMSRS, msrs.size());
        for (int i = 0; i < msrs.size(); i++) {
            MemorySegment x = entry(s, i);
            x.set(JAVA_INT, MSR_ENTRY_INDEX, msrs.get(i).index());
            x.set(JAVA_LONG, MSR_ENTRY_DATA, msrs.get(i).value());
        }
        return s;
    }

    /** The first {@code count} entries (KVM_GET_MSRS fills only as many as it returns). */
    static List<MsrEntry> decode(MemorySegment s, int count) {
        List<MsrEntry> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            MemorySegment x = entry(s, i);
            out.add(new MsrEntry(x.get(JAVA_INT, MSR_ENTRY_INDEX), x.get(JAVA_LONG, MSR_ENTRY_DATA)));
        }
        return out;
    }

    private static MemorySegment entry(MemorySegment s, int i) {
        return s.asSlice(KVM_MSRS.byteSize() + i * KVM_MSR_ENTRY.byteSize(), KVM_MSR_ENTRY.byteSize());
    }
}
