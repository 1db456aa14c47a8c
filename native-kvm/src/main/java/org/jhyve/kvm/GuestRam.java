package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.memory.MappingLifetime;
import org.jhyve.memory.MemoryLayout;
import org.jhyve.memory.MemoryRegion;
import org.jhyve.memory.SegmentGuestMemory;
import org.jhyve.posix.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest RAM for a KVM VM: one anonymous mapping per range of {@link MemoryLayout#ramRanges}, each owned by the
 * VM's arena (closing it unmaps them), and each registered with KVM as one memory slot. The arena is closed by
 * the memory's {@link MappingLifetime}, once the VM has closed and no device thread holds the mapping.
 */
final class GuestRam {
    private GuestRam() {}

    private static final Logger log = LoggerFactory.getLogger(GuestRam.class);

    /**
     * Private, anonymous and MAP_NORESERVE: pages cost nothing until the guest touches them, so a large
     * guest does not need the host to promise all of its RAM up front.
     */
    private static final int MAP_FLAGS = Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE;

    /**
     * Maps RAM for a guest of {@code size} bytes in {@code arena}, released by {@code lifetime}; on failure,
     * mappings already made are released with the arena.
     */
    @SuppressWarnings("restricted") // sizing the raw mmap result; the length is the one just mapped
    static SegmentGuestMemory map(Arena arena, MappingLifetime lifetime, long size) {
        List<MemoryRegion> regions = new ArrayList<>();
        for (MemoryLayout.Range range : MemoryLayout.ramRanges(size)) {
            long length = range.size();
            MemorySegment address = HostCalls.mmap(length, Libc.PROT_READ | Libc.PROT_WRITE, MAP_FLAGS, -1, 0);
            MemorySegment host = address.reinterpret(length, arena, s -> unmap(s, length));
            regions.add(new MemoryRegion(range.guestAddress(), host));
        }
        return new SegmentGuestMemory(regions, lifetime);
    }

    /** KVM_SET_USER_MEMORY_REGION for each region, slot numbers in address order from 0. */
    static void register(int vmFd, List<MemoryRegion> regions) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmStructs.KVM_USERSPACE_MEMORY_REGION);
            for (int slot = 0; slot < regions.size(); slot++) {
                MemoryRegion r = regions.get(slot);
                s.set(JAVA_INT, KvmStructs.MEMREG_SLOT, slot);
                s.set(JAVA_INT, KvmStructs.MEMREG_FLAGS, 0);
                s.set(JAVA_LONG, KvmStructs.MEMREG_GUEST_PHYS_ADDR, r.guestAddress());
                s.set(JAVA_LONG, KvmStructs.MEMREG_MEMORY_SIZE, r.size());
                s.set(JAVA_LONG, KvmStructs.MEMREG_USERSPACE_ADDR, r.host().address());
                HostCalls.ioctl(vmFd, KvmAbi.SET_USER_MEMORY_REGION, s);
            }
        }
    }

    /** Runs as the arena's cleanup, where throwing would lose the other cleanups: log instead. */
    private static void unmap(MemorySegment address, long length) {
        try {
            HostCalls.munmap(address, length);
        } catch (RuntimeException e) {
            log.warn("could not unmap {} bytes of guest RAM at 0x{}", length, Long.toHexString(address.address()), e);
        }
    }
}
