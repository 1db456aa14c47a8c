package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.MemoryRegion;
import org.jhyve.memory.SegmentGuestMemory;

/**
 * A hostile driver writing random bytes where the descriptor table, the available ring and the indirect tables
 * go: whatever it writes, popping chains either yields chains whose every buffer lies inside guest RAM or
 * throws {@link VirtqueueException}, never anything else, never loops forever, and never touches memory
 * outside guest RAM.
 */
class SplitQueuePropertiesTest {
    static final long RAM = 64 * 1024;

    @Property(tries = 2000)
    void randomRingsNeverEscapeGuestMemory(@ForAll("sizes") int sizeLog2, @ForAll long seed,
                                           @ForAll @IntRange(min = 0, max = 3) int pointerBias,
                                           @ForAll boolean eventIdx, @ForAll boolean indirect) {
        int size = 1 << sizeLog2;
        CheckedMemory memory = new CheckedMemory(SegmentGuestMemory.onHeap(RAM));
        java.util.Random random = new java.util.Random(seed);
        byte[] noise = new byte[(int) RAM];
        random.nextBytes(noise);
        memory.write(0, noise);
        // Bias most fields toward plausible values (small indices, addresses in RAM, modest lengths, valid
        // flag mixes), so chains get long and indirect tables get followed instead of all failing the first
        // check; the noise left in the other fields plays the broken or malicious driver.
        QueueLayout layout = new QueueLayout(size, 0x1000, 0x1000 + 16L * size, (0x1000 + 18L * size + 6 + 3) & ~3L);
        for (int i = 0; i < size; i++) {
            long at = layout.descriptorTable() + 16L * i;
            if (random.nextInt(4) < pointerBias) {
                memory.writeLong(at, random.nextInt((int) RAM) & ~0xfL);
                memory.writeInt(at + 8, random.nextInt(8) * 16);
                int flags = random.nextInt(8) == 0 ? SplitQueue.DESC_F_INDIRECT : random.nextInt(4) & 3;
                memory.writeShort(at + 12, (short) flags);
                memory.writeShort(at + 14, (short) random.nextInt(size + 1));
            }
            if (random.nextInt(4) < pointerBias) {
                memory.writeShort(layout.availRing() + 4 + 2L * i, (short) random.nextInt(size + 1));
            }
        }
        // Indirect tables live at random places in RAM too: bias some of what is there into descriptors.
        for (int i = 0; i < 256 && pointerBias > 1; i++) {
            long at = (random.nextInt((int) RAM) & ~0xfL);
            if (at + 16 > RAM) continue;
            memory.writeLong(at, random.nextInt((int) RAM));
            memory.writeInt(at + 8, random.nextInt(512));
            memory.writeShort(at + 12, (short) (random.nextInt(16) == 0 ? SplitQueue.DESC_F_INDIRECT : random.nextInt(4)));
            memory.writeShort(at + 14, (short) random.nextInt(8));
        }
        if (random.nextInt(4) < pointerBias) memory.writeShort(layout.availRing() + 2, (short) random.nextInt(size + 2));
        SplitQueue queue;
        try {
            queue = new SplitQueue(memory, layout, eventIdx, indirect);
        } catch (VirtqueueException e) {
            net.jqwik.api.statistics.Statistics.collect("layout refused");
            return; // a layout the driver may not give: refused, fine
        }
        int chains = 0;
        String end = "ring emptied";
        for (int round = 0; round < 3 * size + 3; round++) {
            DescriptorChain chain;
            try {
                chain = queue.pop();
            } catch (VirtqueueException e) {
                end = "refused";
                break; // the device stops using the queue here
            }
            if (chain == null) break;
            chains++;
            assertThat(chain.head()).isBetween(0, size - 1);
            List<Descriptor> all = new ArrayList<>(chain.readable().descriptors());
            all.addAll(chain.writable().descriptors());
            assertThat(all.size()).isLessThanOrEqualTo(Math.max(size, SplitQueue.MAX_INDIRECT));
            for (Descriptor d : all) {
                if (d.length() != 0) assertThat(memory.isValid(d.address(), Integer.toUnsignedLong(d.length()))).isTrue();
            }
            queue.addUsed(chain.head(), (int) Math.min(chain.writable().length(), Integer.MAX_VALUE));
            queue.needsInterrupt();
            queue.enableNotifications();
        }
        assertThat(memory.violations).isEmpty();
        net.jqwik.api.statistics.Statistics.collect(chains > 0 ? "chains then " + end : end);
        net.jqwik.api.statistics.Statistics.coverage(c -> {
            // The property only means something if random rings do yield chains as well as get refused.
            c.check("chains then refused").percentage(p -> p > 1);
            c.check("chains then ring emptied").percentage(p -> p > 0.5);
            c.check("refused").percentage(p -> p > 20);
        });
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Integer> sizes() {
        return net.jqwik.api.Arbitraries.integers().between(0, 8);
    }

    /** Guest memory that records any access outside RAM instead of relying on the wrapped one to refuse it. */
    static final class CheckedMemory implements GuestMemory {
        final GuestMemory inner;
        final List<String> violations = new ArrayList<>();

        CheckedMemory(GuestMemory inner) { this.inner = inner; }

        private void check(long gpa, long len) {
            if (!inner.isValid(gpa, len)) violations.add(String.format("[0x%x, +%d)", gpa, len));
        }

        @Override public List<MemoryRegion> regions() { return inner.regions(); }
        @Override public MemorySegment slice(long gpa, long len) { check(gpa, len); return inner.slice(gpa, len); }
        @Override public boolean isValid(long gpa, long len) { return inner.isValid(gpa, len); }
        @Override public byte readByte(long gpa) { check(gpa, 1); return inner.readByte(gpa); }
        @Override public short readShort(long gpa) { check(gpa, 2); return inner.readShort(gpa); }
        @Override public int readInt(long gpa) { check(gpa, 4); return inner.readInt(gpa); }
        @Override public long readLong(long gpa) { check(gpa, 8); return inner.readLong(gpa); }
        @Override public void writeByte(long gpa, byte v) { check(gpa, 1); inner.writeByte(gpa, v); }
        @Override public void writeShort(long gpa, short v) { check(gpa, 2); inner.writeShort(gpa, v); }
        @Override public void writeInt(long gpa, int v) { check(gpa, 4); inner.writeInt(gpa, v); }
        @Override public void writeLong(long gpa, long v) { check(gpa, 8); inner.writeLong(gpa, v); }
        @Override public void read(long gpa, byte[] dst, int off, int len) { check(gpa, len); inner.read(gpa, dst, off, len); }
        @Override public void write(long gpa, byte[] src, int off, int len) { check(gpa, len); inner.write(gpa, src, off, len); }
        @Override public void fill(long gpa, long len, byte value) { check(gpa, len); inner.fill(gpa, len, value); }
    }
}
