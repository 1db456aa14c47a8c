package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.devices.virtio.VirtqueueDriver.Used;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.MemoryRegion;
import org.jhyve.memory.SegmentGuestMemory;

/**
 * Properties of the split virtqueue over random inputs.
 *
 * <p>A hostile driver writes random bytes where the descriptor table, the available ring and indirect tables go,
 * in guest RAM of random shape: whatever it writes, popping either yields chains whose every buffer lies inside
 * guest RAM or throws {@link VirtqueueException}, never anything else, always in bounded work, and the device
 * never touches memory outside guest RAM; and it does exactly what a plain second reading of the rules
 * ({@link Reference}) says. A well-behaved driver gets back exactly what it queued, in any interleaving of
 * queueing, taking, completing and notification suppression, and the notification decisions follow the spec.
 * {@link GuestBuffers} behaves as one flat byte stream.
 */
class SplitQueuePropertiesTest {
    static final int PAGE = 4096;

    /** Heap-backed guest RAM: region 0 from address 0, and optionally region 1 after a gap (which may be 0). */
    static GuestMemory ram(int pages0, int gapPages, int pages1) {
        List<MemoryRegion> regions = new ArrayList<>();
        regions.add(new MemoryRegion(0, MemorySegment.ofArray(new byte[pages0 * PAGE])));
        if (pages1 > 0) {
            regions.add(new MemoryRegion((long) (pages0 + gapPages) * PAGE, MemorySegment.ofArray(new byte[pages1 * PAGE])));
        }
        return new SegmentGuestMemory(regions);
    }

    @Provide
    Arbitrary<Integer> sizes() {
        return Arbitraries.integers().between(0, 8); // log2 of the queue size: 1 to 256
    }

    // ---- a hostile driver ----

    @Property(tries = 2000)
    void randomRingsNeverEscapeGuestMemory(@ForAll("sizes") int sizeLog2,
                                           @ForAll @IntRange(min = 2, max = 64) int pages0,
                                           @ForAll @IntRange(min = 0, max = 3) int gapPages,
                                           @ForAll @IntRange(min = 0, max = 8) int pages1,
                                           @ForAll @IntRange(min = 0, max = 4) int hostility,
                                           @ForAll @IntRange(min = 0, max = 9) int placement,
                                           @ForAll boolean eventIdx, @ForAll boolean indirect,
                                           @ForAll long seed) {
        CheckedMemory memory = new CheckedMemory(ram(pages0, gapPages, pages1));
        Hostile h = new Hostile(memory, new Random(seed), HOSTILITY[hostility]);
        for (MemoryRegion r : memory.regions()) {
            byte[] noise = new byte[(int) r.size()];
            h.random.nextBytes(noise);
            memory.write(r.guestAddress(), noise);
        }
        QueueLayout layout = h.layout(1 << sizeLog2, placement);
        int size = layout.size(); // placement 2 tries sizes the driver may not give
        // Each field is what a driver could write (indices below the size, buffers inside a RAM region,
        // readable/writable/next flag mixes, indirect tables with their descriptors) unless it is hostile, with
        // the probability this try plays at: then it keeps the noise, or gets a value at the edge of the rules.
        boolean plausible = size > 0 && size <= 32768;
        if (plausible && memory.isValid(layout.descriptorTable(), layout.descriptorTableBytes())) {
            for (int i = 0; i < size; i++) {
                if (!h.hostile()) h.writeDescriptor(layout.descriptorTable() + 16L * i, size, -1);
            }
        }
        if (plausible && memory.isValid(layout.availRing(), layout.availRingBytes())) {
            for (int i = 0; i < size; i++) {
                int head = h.hostile() ? size + (h.random.nextBoolean() ? 0 : h.random.nextInt(0x10000 - size)) : h.random.nextInt(size);
                memory.writeShort(layout.availRing() + 4 + 2L * i, (short) head);
            }
            int idx = h.hostile() ? h.random.nextInt(0x10000) : h.random.nextInt(size + 1);
            memory.writeShort(layout.availRing() + 2, (short) idx);
        }
        memory.startRecording();

        SplitQueue queue;
        try {
            queue = new SplitQueue(memory, layout, eventIdx, indirect);
        } catch (VirtqueueException e) {
            // A bad size has no address to name; a bad ring names its address.
            assertThat(e.getMessage()).matches(m -> m.startsWith("queue size ") || m.contains("0x"), "names the ring's address");
            assertThat(memory.violations()).isEmpty();
            Statistics.label("outcome").collect("layout refused");
            return;
        }
        assertThat(memory.isValid(layout.descriptorTable(), layout.descriptorTableBytes())).isTrue();
        assertThat(memory.isValid(layout.availRing(), layout.availRingBytes())).isTrue();
        assertThat(memory.isValid(layout.usedRing(), layout.usedRingBytes())).isTrue();

        // One pop reads the avail index and slot, then four fields per descriptor, at most size direct ones and
        // MAX_INDIRECT indirect ones.
        long budget = 8 + 4L * (size + (indirect ? SplitQueue.MAX_INDIRECT : 0));
        // When the used ring overlaps the available ring, the device's own writes move the avail index and may
        // publish more chains: still bounded per pop, but no longer at most a queue's worth.
        boolean selfFeeding = overlap(layout.usedRing(), layout.usedRingBytes(), layout.availRing(), layout.availRingBytes());
        int chains = 0;
        int nextAvail = 0;
        String end = null;
        for (int round = 0; round <= size + 1 && end == null; round++) {
            Reference.Outcome expected = Reference.pop(memory.inner, layout, nextAvail, indirect);
            memory.budget(budget);
            DescriptorChain chain;
            try {
                chain = queue.pop();
            } catch (VirtqueueException e) {
                assertThat(e.getMessage()).contains("0x");
                assertThat(expected).as("the reference walk refuses too (%s)", e.getMessage()).isInstanceOf(Reference.Refused.class);
                String why = ((Reference.Refused) expected).why();
                assertThat(Reference.MESSAGES.get(why)).as("refused for %s: %s", why, e.getMessage()).anyMatch(e.getMessage()::contains);
                Statistics.label("refusal").collect(kind(e));
                end = "refused";
                break; // the device stops using the queue here
            }
            if (chain == null) {
                assertThat(expected).isInstanceOf(Reference.Empty.class);
                end = "ring emptied";
                break;
            }
            assertThat(expected).isEqualTo(new Reference.Chain(chain.head(), all(chain)));
            chains++;
            nextAvail = (nextAvail + 1) & 0xffff;
            checkChain(memory, chain, size, indirect);
            memory.budget(Long.MAX_VALUE);
            exercise(chain);
            queue.addUsed(chain.head(), (int) Math.min(chain.writable().length(), Integer.MAX_VALUE));
            queue.needsInterrupt();
            queue.disableNotifications();
            queue.enableNotifications();
        }
        if (!selfFeeding) {
            assertThat(end).as("pop stops yielding chains after at most a queue's worth").isNotNull();
            assertThat(chains).isLessThanOrEqualTo(size);
        }
        assertThat(memory.violations()).isEmpty();
        assertThat(memory.accessCount()).isPositive();

        Statistics.label("outcome").collect(end == null ? "still yielding (rings overlap)" : chains > 0 ? "chains then " + end : end);
        Statistics.label("outcome").coverage(c -> {
            // The property only means something if random rings yield chains as well as get refused.
            c.check("chains then refused").percentage(p -> p > 5);
            c.check("chains then ring emptied").percentage(p -> p > 3);
            c.check("refused").percentage(p -> p > 20);
            c.check("layout refused").percentage(p -> p > 5);
        });
        Statistics.label("refusal").coverage(c -> {
            // Every rule a driver can break in a chain is met by some random ring; the indirect-table rules each
            // only a few dozen times in 2000 tries, so they are checked together.
            for (String kind : List.of("index jumped", "names descriptor", "chains to index", "loops", "outside guest RAM",
                    "follows a writable one", "not negotiated")) {
                c.check(kind).count(n -> n > 0);
            }
            List<String> indirectRules = List.of("indirect table", "nests an indirect table", "also has NEXT", "not 16-byte aligned");
            c.checkQuery(values -> indirectRules.contains(values.getFirst())).count(n -> n >= 20);
        });
    }

    static List<Descriptor> all(DescriptorChain chain) {
        List<Descriptor> all = new ArrayList<>(chain.readable().descriptors());
        all.addAll(chain.writable().descriptors());
        return all;
    }

    /**
     * The virtqueue rules written down a second time, as plainly as possible, to tell exactly what
     * {@link SplitQueue#pop} must do with a ring: nothing, refuse (and for which rule), or which chain. A loop
     * is a descriptor seen twice here, where SplitQueue counts steps.
     */
    static final class Reference {
        sealed interface Outcome permits Empty, Refused, Chain {}

        record Empty() implements Outcome {}

        record Refused(String why) implements Outcome {}

        record Chain(int head, List<Descriptor> descriptors) implements Outcome {}

        /**
         * What SplitQueue's message says for each reason. Both walks meet the descriptors in the same order, so
         * the first rule broken is the same, except that SplitQueue goes round a loop once more before giving
         * up, and can meet a readable descriptor after a writable one on the second lap.
         */
        static final java.util.Map<String, List<String>> MESSAGES = java.util.Map.of(
                "index jumped", List.of("available index jumped"),
                "head", List.of("names descriptor"),
                "next", List.of("chains to index"),
                "loop", List.of("loops or exceeds", "follows a writable one"),
                "indirect", List.of("not negotiated", "nests an indirect table", "also has NEXT", "bad length",
                        "indirect table [", "not 16-byte aligned"),
                "order", List.of("follows a writable one"),
                "range", List.of("buffer ["));

        static Outcome pop(GuestMemory m, QueueLayout l, int nextAvail, boolean indirectOk) {
            int availIdx = Short.toUnsignedInt(m.readShort(l.availRing() + 2));
            if (availIdx == nextAvail) return new Empty();
            if (((availIdx - nextAvail) & 0xffff) > l.size()) return new Refused("index jumped");
            int head = Short.toUnsignedInt(m.readShort(l.availRing() + 4 + 2L * (nextAvail % l.size())));
            if (head >= l.size()) return new Refused("head");
            List<Descriptor> out = new ArrayList<>();
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            long table = l.descriptorTable();
            int n = l.size();
            boolean inIndirect = false, seenWritable = false;
            for (int i = head; ; ) {
                if (i >= n) return new Refused("next");
                if (!seen.add(i)) return new Refused("loop");
                long at = table + 16L * i;
                long addr = m.readLong(at);
                long len = Integer.toUnsignedLong(m.readInt(at + 8));
                int flags = Short.toUnsignedInt(m.readShort(at + 12));
                int next = Short.toUnsignedInt(m.readShort(at + 14));
                if ((flags & SplitQueue.DESC_F_INDIRECT) != 0) {
                    boolean ok = indirectOk && !inIndirect && (flags & SplitQueue.DESC_F_NEXT) == 0
                            && len > 0 && len % 16 == 0 && len / 16 <= SplitQueue.MAX_INDIRECT
                            && addr % 16 == 0 && m.isValid(addr, len);
                    if (!ok) return new Refused("indirect");
                    table = addr;
                    n = (int) (len / 16);
                    inIndirect = true;
                    seen.clear();
                    i = 0;
                    continue;
                }
                boolean writable = (flags & SplitQueue.DESC_F_WRITE) != 0;
                if (seenWritable && !writable) return new Refused("order");
                seenWritable |= writable;
                if (len > 0 && !m.isValid(addr, len)) return new Refused("range");
                out.add(new Descriptor(addr, (int) len, writable));
                if ((flags & SplitQueue.DESC_F_NEXT) == 0) return new Chain(head, out);
                i = next;
            }
        }
    }

    /** Which rule a refusal is about. */
    static String kind(VirtqueueException e) {
        String m = e.getMessage();
        for (String kind : List.of("index jumped", "names descriptor", "chains to index", "loops", "nests an indirect table",
                "also has NEXT", "not negotiated", "not 16-byte aligned", "bad length", "follows a writable one", "outside guest RAM")) {
            if (m.contains(kind)) return kind.equals("bad length") ? "indirect table" : kind;
        }
        return m;
    }

    static boolean overlap(long a, long aLen, long b, long bLen) {
        return Long.compareUnsigned(a, b + bLen) < 0 && Long.compareUnsigned(b, a + aLen) < 0;
    }

    /** What every chain the device is given must satisfy. */
    static void checkChain(GuestMemory memory, DescriptorChain chain, int size, boolean indirect) {
        assertThat(chain.head()).isBetween(0, size - 1);
        List<Descriptor> all = new ArrayList<>(chain.readable().descriptors());
        all.addAll(chain.writable().descriptors());
        assertThat(all).isNotEmpty();
        // Without indirect descriptors a chain visits each table entry at most once; with them, up to size - 1
        // direct ones may lead to one indirect table (virtio 1.2, 2.7.5.3.2) of at most MAX_INDIRECT.
        assertThat(all.size()).isLessThanOrEqualTo(indirect ? size - 1 + SplitQueue.MAX_INDIRECT : size);
        assertThat(chain.readable().descriptors()).allMatch(d -> !d.writable());
        assertThat(chain.writable().descriptors()).allMatch(Descriptor::writable);
        for (Descriptor d : all) {
            if (d.length() != 0) {
                assertThat(memory.isValid(d.address(), Integer.toUnsignedLong(d.length())))
                        .as("buffer [0x%x, +%d) in guest RAM", d.address(), Integer.toUnsignedLong(d.length())).isTrue();
            }
        }
    }

    /**
     * Reads and writes a chain's streams as a device would, at both ends (the middle may be huge), writing back
     * what it read so that guest memory (which may hold the rings themselves) does not change.
     */
    static void exercise(DescriptorChain chain) {
        for (GuestBuffers b : List.of(chain.readable(), chain.writable())) {
            int n = (int) Math.min(b.length(), 4096);
            for (long offset : new long[] {0, b.length() - n}) {
                byte[] bytes = new byte[n];
                b.read(offset, bytes);
                if (b == chain.writable()) b.write(offset, bytes);
            }
            b.slices(0, b.length());
        }
    }

    /** How likely each field the driver writes is hostile, by the property's {@code hostility} parameter. */
    static final double[] HOSTILITY = {0, 0.02, 0.1, 0.4, 1};

    /** Random values with a taste for the edges of guest RAM. */
    static final class Hostile {
        final GuestMemory memory;
        final Random random;
        final double hostility;
        final List<MemoryRegion> regions;

        Hostile(GuestMemory memory, Random random, double hostility) {
            this.memory = memory;
            this.random = random;
            this.hostility = hostility;
            this.regions = memory.regions();
        }

        boolean hostile() {
            return random.nextDouble() < hostility;
        }

        MemoryRegion anyRegion() {
            return regions.get(random.nextInt(regions.size()));
        }

        long addressInRam() {
            MemoryRegion r = anyRegion();
            return r.guestAddress() + (long) (random.nextDouble() * r.size());
        }

        long address() {
            MemoryRegion r = anyRegion();
            return switch (random.nextInt(12)) {
                case 0 -> r.end() - 1 - random.nextInt(64);          // straddles the end of a region
                case 1 -> r.end() + random.nextInt(64);              // just past it (in a gap, or past RAM)
                case 2 -> r.guestAddress() - 1 - random.nextInt(64); // just before it
                case 3 -> -1L - random.nextInt(64);                  // so that address + length wraps 2^64
                case 4 -> random.nextLong();
                case 5 -> Long.MAX_VALUE - random.nextInt(64);
                case 6 -> (addressInRam() & ~0xfL) + 1 + random.nextInt(15); // misaligned for an indirect table
                case 7 -> r.end() - 16L * (1 + random.nextInt(4));            // aligned, a table running off the end
                default -> addressInRam();
            };
        }

        int length() {
            return switch (random.nextInt(12)) {
                case 0 -> 0;
                case 1 -> -1;                                         // 4 GiB - 1
                case 2 -> Integer.MIN_VALUE;                          // 2 GiB, negative as an int
                case 3 -> (int) anyRegion().size();
                case 4 -> random.nextInt();
                case 5, 6 -> 16 * random.nextInt(9);                  // an indirect table's length
                default -> 1 + random.nextInt(512);
            };
        }

        int flags() {
            int r = random.nextInt(16);
            if (r == 0) return SplitQueue.DESC_F_INDIRECT;
            if (r == 1) return random.nextInt(8);                     // INDIRECT with NEXT or WRITE
            if (r == 2) return random.nextInt(0x10000);
            return random.nextInt(4);                                 // NEXT and WRITE mixes
        }

        /**
         * Writes a descriptor at {@code at} as a driver could (a buffer inside one RAM region, an index below
         * {@code indexBound}, an indirect table with its descriptors), then makes each field hostile on its own
         * with this try's probability. {@code parentTable} is the indirect table {@code at} is in, or -1.
         */
        void writeDescriptor(long at, int indexBound, long parentTable) {
            MemoryRegion r = anyRegion();
            int flags = random.nextInt(8) == 0 ? SplitQueue.DESC_F_INDIRECT : random.nextInt(4);
            int len = (flags & SplitQueue.DESC_F_INDIRECT) != 0 ? 16 * (1 + random.nextInt(8))
                    : random.nextInt(16) == 0 ? 0 : 1 + random.nextInt((int) Math.min(512, r.size()));
            long address = r.guestAddress() + (long) (random.nextDouble() * (r.size() - len + 1));
            if ((flags & SplitQueue.DESC_F_INDIRECT) != 0) address &= ~0xfL;
            int next = random.nextInt(indexBound);
            if ((flags & SplitQueue.DESC_F_INDIRECT) != 0 && parentTable < 0) {
                for (int j = 0; j < len / 16; j++) writeDescriptor(address + 16L * j, len / 16, address);
            }
            // Nested indirection pointing back at its own table: a cycle that resets every per-table bound.
            if ((flags & SplitQueue.DESC_F_INDIRECT) != 0 && parentTable >= 0 && random.nextBoolean()) address = parentTable;
            if (hostile()) address = address();
            if ((flags & SplitQueue.DESC_F_INDIRECT) != 0 && hostile()) {
                switch (random.nextInt(4)) {
                    case 0 -> address += 8;                                         // misaligned
                    case 1 -> address = r.end() - 16L * (1 + random.nextInt(len / 16)); // running off its region
                    case 2 -> address = r.end() + 16L * random.nextInt(4);           // past it
                    default -> {                                                     // the whole region: too many
                        address = r.guestAddress();                                  // entries past 64 KiB
                        len = (int) r.size();
                    }
                }
            }
            if (hostile()) len = length();
            if (hostile()) flags = flags();
            if (hostile()) next = random.nextBoolean() ? indexBound : random.nextInt(0x10000);
            memory.writeLong(at, address);
            memory.writeInt(at + 8, len);
            memory.writeShort(at + 12, (short) flags);
            memory.writeShort(at + 14, (short) next);
        }

        long aligned(long address, int alignment) {
            return address & -(long) alignment;
        }

        /** Mostly where a driver would put the rings; sometimes anywhere, misaligned, or past RAM. */
        QueueLayout layout(int size, int placement) {
            QueueLayout contiguous = null;
            MemoryRegion r0 = regions.get(0);
            long need = (16L * size + 6 + 2L * size + 3 + 6 + 8L * size + 15) & ~15L;
            if (need <= r0.size()) {
                long base = aligned(r0.guestAddress() + (long) (random.nextDouble() * (r0.size() - need + 1)), 16);
                long avail = base + 16L * size;
                contiguous = new QueueLayout(size, base, avail, (avail + 6 + 2L * size + 3) & ~3L);
            }
            return switch (placement) {
                case 0 -> new QueueLayout(size, aligned(addressInRam(), 16), aligned(addressInRam(), 2), aligned(addressInRam(), 4));
                case 1 -> new QueueLayout(size, address(), address(), address());
                case 2 -> new QueueLayout(random.nextInt(4) == 0 ? random.nextInt() : size + random.nextInt(3) - 1,
                        aligned(addressInRam(), 16), aligned(addressInRam(), 2), aligned(addressInRam(), 4));
                default -> contiguous != null ? contiguous : new QueueLayout(size, address(), address(), address());
            };
        }
    }

    // ---- a well-behaved driver ----

    /** A chain as the driver queued it: its head and buffers, what it put in the readable ones, descriptors used. */
    record Queued(int head, List<Buf> bufs, byte[] readable, int descriptors) {
        List<Descriptor> writable() {
            return bufs.stream().filter(Buf::writable).map(b -> new Descriptor(b.address(), b.length(), true)).toList();
        }
    }

    @Property(tries = 1000)
    void wellFormedChainsComeBackAsQueuedAndNotificationsFollowTheSpec(@ForAll @IntRange(min = 0, max = 7) int sizeLog2,
                                                                       @ForAll boolean eventIdx, @ForAll boolean indirect,
                                                                       @ForAll @IntRange(min = 1, max = 300) int steps,
                                                                       @ForAll long seed) throws VirtqueueException {
        int size = 1 << sizeLog2;
        Random random = new Random(seed);
        GuestMemory memory = ram(128, 0, 0);
        VirtqueueDriver driver = new VirtqueueDriver(memory, 0x1000, size);
        SplitQueue queue = new SplitQueue(memory, driver.layout(), eventIdx, indirect);
        Deque<Queued> published = new ArrayDeque<>();
        List<Queued> inFlight = new ArrayList<>();
        int publishedDescriptors = 0;
        int popped = 0;
        int usedIdx = 0, lastSignalled = 0;
        boolean notifyDisabled = false;
        int availEventSet = 0; // what the device last asked for with EVENT_IDX (the ring starts zeroed)

        for (int step = 0; step < steps || !published.isEmpty() || !inFlight.isEmpty(); step++) {
            boolean draining = step >= steps;
            int op = draining ? 1 + random.nextInt(2) : random.nextInt(8);
            if (op == 0 || op == 5) { // the driver queues a chain
                boolean useIndirect = indirect && random.nextBoolean();
                int maxBufs = useIndirect ? 6 : Math.min(4, size - publishedDescriptors);
                if (published.size() == size || publishedDescriptors == size || maxBufs < 1) continue;
                List<Buf> bufs = new ArrayList<>();
                int n = 1 + random.nextInt(maxBufs);
                int readable = random.nextInt(n + 1);
                java.io.ByteArrayOutputStream content = new java.io.ByteArrayOutputStream();
                for (int i = 0; i < n; i++) {
                    int len = random.nextInt(8) == 0 ? 0 : 1 + random.nextInt(64);
                    long at = driver.allocate(Math.max(len, 1));
                    if (i < readable) {
                        byte[] b = new byte[len];
                        random.nextBytes(b);
                        memory.write(at, b);
                        content.writeBytes(b);
                    }
                    bufs.add(new Buf(at, len, i >= readable));
                }
                int old = driver.availIndex();
                int head = useIndirect ? driver.addIndirectChain(bufs) : driver.addChain(bufs);
                int descriptors = useIndirect ? 1 : n;
                published.add(new Queued(head, bufs, content.toByteArray(), descriptors));
                publishedDescriptors += descriptors;
                // Without EVENT_IDX the device wants a notification unless it disabled them. With it, the wish
                // is one-shot: notify when the index moves past the avail_event it left when it last enabled
                // them, which was the number of chains it had taken then.
                assertThat(driver.deviceWantsNotification(old, eventIdx)).isEqualTo(eventIdx ? old == availEventSet : !notifyDisabled);
            } else if (op == 1) { // the device takes one
                DescriptorChain c = queue.pop();
                if (published.isEmpty()) {
                    assertThat(c).isNull();
                    continue;
                }
                Queued q = published.remove();
                publishedDescriptors -= q.descriptors();
                popped++;
                assertThat(c.head()).isEqualTo(q.head());
                List<Descriptor> expected = q.bufs().stream().map(b -> new Descriptor(b.address(), b.length(), b.writable())).toList();
                List<Descriptor> got = new ArrayList<>(c.readable().descriptors());
                got.addAll(c.writable().descriptors());
                assertThat(got).isEqualTo(expected);
                byte[] read = new byte[(int) c.readable().length()];
                c.readable().read(0, read);
                assertThat(read).isEqualTo(q.readable());
                inFlight.add(q);
            } else if (op == 2 || op == 6) { // the device completes one, in any order
                if (inFlight.isEmpty()) continue;
                Queued q = inFlight.remove(random.nextInt(inFlight.size()));
                GuestBuffers w = new GuestBuffers(memory, q.writable());
                int written = random.nextInt((int) w.length() + 1);
                byte[] data = new byte[written];
                random.nextBytes(data);
                w.write(0, data);
                queue.addUsed(q.head(), written);
                usedIdx = (usedIdx + 1) & 0xffff;
                assertThat(driver.usedIndex()).isEqualTo(usedIdx);
                assertThat(driver.nextUsed()).isEqualTo(new Used(q.head(), written));
                assertThat(driver.nextUsed()).isNull();
                byte[] back = new byte[written];
                w.read(0, back);
                assertThat(back).isEqualTo(data);
            } else if (op == 7) { // the device considers interrupting, whether or not it completed anything since
                boolean expectInterrupt;
                if (eventIdx) {
                    int usedEvent = random.nextInt(0x10000);
                    // Mostly near the batch, [last signalled - 1, used idx], where the boundaries are.
                    if (random.nextInt(4) != 0) usedEvent = (lastSignalled - 1 + random.nextInt(((usedIdx - lastSignalled) & 0xffff) + 2)) & 0xffff;
                    driver.setUsedEvent(usedEvent);
                    driver.setNoInterrupt(random.nextBoolean()); // ignored with EVENT_IDX
                    // used_event in [last signalled, used idx), modulo 2^16
                    expectInterrupt = ((usedEvent - lastSignalled) & 0xffff) < ((usedIdx - lastSignalled) & 0xffff);
                } else {
                    boolean noInterrupt = random.nextBoolean();
                    driver.setNoInterrupt(noInterrupt);
                    driver.setUsedEvent(random.nextInt(0x10000)); // ignored without EVENT_IDX
                    expectInterrupt = usedIdx != lastSignalled && !noInterrupt;
                }
                assertThat(queue.needsInterrupt()).isEqualTo(expectInterrupt);
                lastSignalled = usedIdx;
            } else if (op == 3) {
                queue.disableNotifications();
                notifyDisabled = true;
                if (!eventIdx) assertThat(driver.usedFlags()).isEqualTo(SplitQueue.USED_F_NO_NOTIFY);
            } else {
                assertThat(queue.enableNotifications()).isEqualTo(!published.isEmpty());
                notifyDisabled = false;
                availEventSet = popped & 0xffff;
                if (eventIdx) assertThat(driver.availEvent()).isEqualTo(popped & 0xffff);
                else assertThat(driver.usedFlags()).isZero();
            }
            assertThat(queue.hasAvailable()).isEqualTo(!published.isEmpty());
        }
        assertThat(queue.pop()).isNull();
        Statistics.label("size").collect(size);
    }

    // ---- GuestBuffers as one stream ----

    @Property(tries = 1000)
    void guestBuffersBehaveAsOneFlatStream(@ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 40) Integer> lengths,
                                           @ForAll long seed) {
        Random random = new Random(seed);
        GuestMemory memory = ram(4, 0, 0);
        byte[] before = new byte[4 * PAGE];
        random.nextBytes(before);
        memory.write(0, before);
        List<Descriptor> descriptors = new ArrayList<>();
        long at = random.nextInt(64);
        for (int len : lengths) {
            descriptors.add(new Descriptor(at, len, true));
            at += len + random.nextInt(3) * 16; // adjacent, or with untouched bytes between
        }
        GuestBuffers stream = new GuestBuffers(memory, descriptors);
        byte[] model = new byte[lengths.stream().mapToInt(Integer::intValue).sum()];
        int p = 0;
        for (Descriptor d : descriptors) {
            memory.read(d.address(), model, p, d.length());
            p += d.length();
        }
        assertThat(stream.length()).isEqualTo(model.length);
        for (int round = 0; round < 20; round++) {
            int offset = random.nextInt(model.length + 3);
            int len = random.nextInt(model.length + 3);
            if (offset + len > model.length) {
                assertThatThrownBy(() -> stream.slices(offset, len)).isInstanceOf(IndexOutOfBoundsException.class);
                assertThatThrownBy(() -> stream.write(offset, new byte[len])).isInstanceOf(IndexOutOfBoundsException.class);
                continue;
            }
            List<MemorySegment> slices = stream.slices(offset, len);
            assertThat(slices).allMatch(s -> s.byteSize() > 0);
            assertThat(slices.stream().mapToLong(MemorySegment::byteSize).sum()).isEqualTo(len);
            assertThat(slices.size()).isLessThanOrEqualTo(descriptors.size());
            byte[] read = new byte[len];
            stream.read(offset, read);
            assertThat(read).isEqualTo(Arrays.copyOfRange(model, offset, offset + len));
            byte[] data = new byte[len];
            random.nextBytes(data);
            stream.write(offset, data);
            System.arraycopy(data, 0, model, offset, len);
        }
        // Guest memory now holds the model in the buffers and what it held before everywhere else.
        byte[] expected = before.clone();
        p = 0;
        for (Descriptor d : descriptors) {
            System.arraycopy(model, p, expected, (int) d.address(), d.length());
            p += d.length();
        }
        assertThat(memory.readBytes(0, 4 * PAGE)).isEqualTo(expected);
    }

    // ---- completions ----

    @Property(tries = 300)
    void completionsSingleOrBatchedReachTheDriverInOrderAndTheIndexOnlyEverMovesPastWholeBatches(
            @ForAll @IntRange(min = 0, max = 7) int sizeLog2, @ForAll boolean eventIdx, @ForAll long seed) throws VirtqueueException {
        int size = 1 << sizeLog2;
        GuestMemory ram = ram(64, 0, 0);
        VirtqueueDriver driver = new VirtqueueDriver(ram, 0x1000, size);
        RecordingGuestMemory recording = new RecordingGuestMemory(ram);
        SplitQueue queue = new SplitQueue(recording, driver.layout(), eventIdx, false);
        long usedIdx = driver.layout().usedRing() + 2;
        List<Integer> published = new ArrayList<>();
        recording.watch(w -> {
            if (w.covers(usedIdx, 2)) published.add(Short.toUnsignedInt(ram.readShort(usedIdx)));
        });
        Random random = new Random(seed);
        List<Integer> boundaries = new ArrayList<>();
        int total = 0;
        for (int round = 0; round < 40; round++) {
            int n = random.nextInt(size + 1);
            List<SplitQueue.Completion> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) batch.add(new SplitQueue.Completion(random.nextInt(size), random.nextInt()));
            if (n == 1 && random.nextBoolean()) queue.addUsed(batch.getFirst().head(), batch.getFirst().written());
            else queue.addUsed(batch);
            if (n > 0) {
                total = (total + n) & 0xffff;
                boundaries.add(total);
            }
            // The driver, having read everything before, finds exactly this batch.
            assertThat(driver.takeUsed()).containsExactlyElementsOf(batch.stream().map(c -> new Used(c.head(), c.written())).toList());
            if (random.nextBoolean()) queue.needsInterrupt();
        }
        assertThat(published).as("every used index written is the end of a batch").isEqualTo(boundaries);
    }

    /**
     * Guest memory that checks every access lies inside guest RAM before the wrapped memory gets to refuse it
     * (recording and failing the test at the access), counts accesses, and stops a runaway walk once it exceeds
     * its access budget.
     */
    static final class CheckedMemory implements GuestMemory {
        final GuestMemory inner;
        private final List<String> violations = new ArrayList<>();
        private boolean recording;
        private long accesses;
        private long budget = Long.MAX_VALUE;
        private long budgetStart;

        CheckedMemory(GuestMemory inner) { this.inner = inner; }

        /** From now on, count accesses and record those outside guest RAM. */
        void startRecording() { recording = true; }

        /** Allows {@code n} more accesses before failing the test (a bound on a single operation's work). */
        void budget(long n) {
            budget = n;
            budgetStart = accesses;
        }

        long accessCount() { return accesses; }

        List<String> violations() { return violations; }

        private void check(long gpa, long len) {
            if (!recording) return;
            accesses++;
            if (accesses - budgetStart > budget) {
                throw new AssertionError("more than " + budget + " guest memory accesses in one operation: a runaway walk");
            }
            if (!inner.isValid(gpa, len)) {
                String v = String.format("[0x%x, +%d)", gpa, len);
                violations.add(v);
                throw new AssertionError("guest memory access " + v + " is outside guest RAM");
            }
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
