package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.jhyve.kvm.KvmStructs.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.hv.CpuidEntry;

/** {@link CpuidEntry} lists to and from {@code kvm_cpuid2}: an 8-byte header, then {@code nent} entries. */
final class CpuidCodec {
    private CpuidCodec() {}

    /** Bytes of a {@code kvm_cpuid2} with room for {@code entries} entries. */
    static long byteSize(int entries) {
        return KVM_CPUID2.byteSize() + entries * KVM_CPUID_ENTRY2.byteSize();
    }

    /** A zeroed {@code kvm_cpuid2} whose {@code nent} announces room for {@code capacity} entries. */
    static MemorySegment allocate(SegmentAllocator allocator, int capacity) {
        MemorySegment s = allocator.allocate(byteSize(capacity), KVM_CPUID2.byteAlignment());
        s.set(JAVA_INT, CPUID2_NENT, capacity);
        return s;
    }

    static MemorySegment encode(SegmentAllocator allocator, List<CpuidEntry> entries) {
        MemorySegment s = allocate(allocator, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            CpuidEntry e = entries.get(i);
            MemorySegment x = entry(s, i);
            x.set(JAVA_INT, CPUID_FUNCTION, e.function());
            x.set(JAVA_INT, CPUID_INDEX, e.index());
            x.set(JAVA_INT, CPUID_FLAGS, e.flags());
            x.set(JAVA_INT, CPUID_EAX, e.eax());
            x.set(JAVA_INT, CPUID_EBX, e.ebx());
            x.set(JAVA_INT, CPUID_ECX, e.ecx());
            x.set(JAVA_INT, CPUID_EDX, e.edx());
        }
        return s;
    }

    /** The {@code nent} entries KVM filled in. */
    static List<CpuidEntry> decode(MemorySegment s) {
        int n = s.get(JAVA_INT, CPUID2_NENT);
        List<CpuidEntry> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            MemorySegment x = entry(s, i);
            out.add(new CpuidEntry(x.get(JAVA_INT, CPUID_FUNCTION), x.get(JAVA_INT, CPUID_INDEX),
                    x.get(JAVA_INT, CPUID_FLAGS), x.get(JAVA_INT, CPUID_EAX), x.get(JAVA_INT, CPUID_EBX),
                    x.get(JAVA_INT, CPUID_ECX), x.get(JAVA_INT, CPUID_EDX)));
        }
        return List.copyOf(out);
    }

    private static MemorySegment entry(MemorySegment s, int i) {
        return s.asSlice(KVM_CPUID2.byteSize() + i * KVM_CPUID_ENTRY2.byteSize(), KVM_CPUID_ENTRY2.byteSize());
    }
}
