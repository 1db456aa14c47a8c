package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.devices.virtio.VirtqueueDriver.DESC_F_INDIRECT;
import static org.jhyve.devices.virtio.VirtqueueDriver.DESC_F_NEXT;
import static org.jhyve.devices.virtio.VirtqueueDriver.DESC_F_WRITE;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.devices.virtio.VirtqueueDriver.Used;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.MemoryRegion;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The device side of a split virtqueue as a device depends on it, and as a hostile driver meets it. */
class SplitQueueTest {
    static final long RAM = 1 << 20;
    static final int SIZE = 8;
    final GuestMemory memory = SegmentGuestMemory.onHeap(RAM);
    /** Descriptor table at 0x1000, avail ring at 0x1080, used ring at 0x1098; data from 0x10000. */
    final VirtqueueDriver driver = new VirtqueueDriver(memory, 0x1000, SIZE, 0x10000, RAM);

    SplitQueue queue(boolean eventIdx, boolean indirect) throws VirtqueueException {
        return new SplitQueue(memory, driver.layout(), eventIdx, indirect);
    }

    /** Pops and expects the driver's rule breach, with the guest address it involves. */
    static AbstractThrowableAssert<?, ? extends Throwable> refused(SplitQueue q) {
        return assertThatThrownBy(q::pop).isInstanceOf(VirtqueueException.class).hasMessageContaining("0x");
    }

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    @Nested
    class Chains {
        @Test
        void aChainPopsWithItsHeadAndReadableThenWritableBuffers() throws Exception {
            SplitQueue q = queue(false, false);
            assertThat(q.hasAvailable()).isFalse();
            assertThat(q.pop()).isNull();
            int head = driver.addChain(List.of(Buf.in(0x10000, 16), Buf.in(0x10100, 512), Buf.out(0x10400, 1)));
            assertThat(q.hasAvailable()).isTrue();
            DescriptorChain c = q.pop();
            assertThat(c.head()).isEqualTo(head);
            assertThat(c.readable().descriptors()).containsExactly(new Descriptor(0x10000, 16, false), new Descriptor(0x10100, 512, false));
            assertThat(c.writable().descriptors()).containsExactly(new Descriptor(0x10400, 1, true));
            assertThat(c.readable().length()).isEqualTo(528);
            assertThat(c.writable().length()).isEqualTo(1);
            assertThat(q.hasAvailable()).isFalse();
            assertThat(q.pop()).isNull();
        }

        @Test
        void headsAreWhateverTheDriverPutInTheRing() throws Exception {
            SplitQueue q = queue(false, false);
            driver.writeDescriptor(5, 0x10000, 4, DESC_F_NEXT, 2);
            driver.writeDescriptor(2, 0x10100, 8, DESC_F_WRITE, 0);
            driver.publish(5);
            DescriptorChain c = q.pop();
            assertThat(c.head()).isEqualTo(5);
            assertThat(c.readable().descriptors()).containsExactly(new Descriptor(0x10000, 4, false));
            assertThat(c.writable().descriptors()).containsExactly(new Descriptor(0x10100, 8, true));
        }

        @Test
        void onlyReadableOrOnlyWritableChains() throws Exception {
            SplitQueue q = queue(false, false);
            driver.addChain(List.of(Buf.in(0x10000, 4)));
            driver.addChain(List.of(Buf.out(0x10100, 4), Buf.out(0x10200, 4)));
            DescriptorChain r = q.pop();
            assertThat(r.readable().length()).isEqualTo(4);
            assertThat(r.writable().descriptors()).isEmpty();
            DescriptorChain w = q.pop();
            assertThat(w.readable().descriptors()).isEmpty();
            assertThat(w.writable().length()).isEqualTo(8);
        }

        @Test
        void chainsComeInOrderAndUsedEntriesGoBackWithTheirLengths() throws Exception {
            SplitQueue q = queue(false, false);
            int a = driver.addChain(List.of(Buf.out(0x10000, 8)));
            int b = driver.addChain(List.of(Buf.in(0x10100, 8), Buf.out(0x10200, 4)));
            int c = driver.addChain(List.of(Buf.in(0x10300, 1)));
            assertThat(List.of(a, b, c)).containsExactly(0, 1, 3);
            assertThat(q.pop().head()).isEqualTo(a);
            assertThat(q.pop().head()).isEqualTo(b);
            assertThat(q.pop().head()).isEqualTo(c);
            assertThat(q.pop()).isNull();
            assertThat(driver.nextUsed()).isNull();
            q.addUsed(b, 4); // completions may come back in any order
            assertThat(driver.usedIndex()).isEqualTo(1);
            assertThat(driver.nextUsed()).isEqualTo(new Used(b, 4));
            q.addUsed(c, 0);
            q.addUsed(a, 8);
            assertThat(driver.used()).containsExactly(new Used(c, 0), new Used(a, 8));
            assertThat(driver.usedIndex()).isEqualTo(3);
        }

        @Test
        void aFullRingOfChainsPops() throws Exception {
            SplitQueue q = queue(false, false);
            for (int i = 0; i < SIZE; i++) driver.addChain(List.of(Buf.out(0x10000 + 0x100L * i, 4)));
            for (int i = 0; i < SIZE; i++) assertThat(q.pop().head()).isEqualTo(i);
            assertThat(q.pop()).isNull();
        }

        @Test
        void indicesWrapAroundPast65535() throws Exception {
            SplitQueue q = queue(false, false);
            for (int i = 0; i < 65540; i++) {
                int head = driver.addChain(List.of(Buf.out(0x10000, 4)));
                DescriptorChain c = q.pop();
                assertThat(c.head()).isEqualTo(head);
                q.addUsed(c.head(), i);
                Used u = driver.nextUsed();
                if (i >= 65533) assertThat(u).isEqualTo(new Used(head, i));
            }
            assertThat(driver.availIndex()).isEqualTo(4); // 65540 mod 65536
            assertThat(driver.usedIndex()).isEqualTo(4);
            assertThat(q.pop()).isNull();
        }

        @Test
        void severalChainsInFlightAcrossTheIndexWrap() throws Exception {
            SplitQueue q = queue(false, false);
            for (int i = 0; i < 65534; i++) {
                driver.addChain(List.of(Buf.out(0x10000, 4)));
                q.addUsed(q.pop().head(), 0);
            }
            driver.used();
            // avail idx 65534: publish four chains so the index wraps between them, then take them all.
            List<Integer> heads = new ArrayList<>();
            for (int i = 0; i < 4; i++) heads.add(driver.addChain(List.of(Buf.in(0x10000 + 0x100L * i, i + 1))));
            assertThat(driver.availIndex()).isEqualTo(2);
            for (int i = 0; i < 4; i++) {
                DescriptorChain c = q.pop();
                assertThat(c.head()).isEqualTo(heads.get(i));
                assertThat(c.readable().length()).isEqualTo(i + 1);
                q.addUsed(c.head(), i);
            }
            assertThat(q.pop()).isNull();
            assertThat(driver.used()).extracting(Used::head).containsExactlyElementsOf(heads);
        }

        @Test
        void zeroLengthBuffersAreKeptButNeverTouched() throws Exception {
            SplitQueue q = queue(false, false);
            // A zero-length buffer names no memory, so its address is not checked (Linux never sends one).
            driver.addChain(List.of(Buf.in(0x10000, 2), Buf.in(-1L, 0), Buf.in(0x10100, 2)));
            memory.write(0x10000, new byte[] {1, 2});
            memory.write(0x10100, new byte[] {3, 4});
            DescriptorChain c = q.pop();
            assertThat(c.readable().descriptors()).hasSize(3);
            byte[] all = new byte[4];
            c.readable().read(0, all);
            assertThat(all).containsExactly(1, 2, 3, 4);
            assertThat(c.readable().slices(0, 4)).hasSize(2);
        }
    }

    @Nested
    class Buffers {
        @Test
        void readAndWriteAcrossDescriptorBoundaries() throws Exception {
            SplitQueue q = queue(false, false);
            memory.write(0x10000, new byte[] {1, 2, 3});
            memory.write(0x10100, new byte[] {4, 5, 6, 7, 8});
            driver.addChain(List.of(Buf.in(0x10000, 3), Buf.in(0x10100, 5), Buf.out(0x10200, 2), Buf.out(0x10300, 6)));
            DescriptorChain c = q.pop();
            byte[] header = new byte[6];
            c.readable().read(1, header);
            assertThat(header).containsExactly(2, 3, 4, 5, 6, 7);
            byte[] whole = new byte[8];
            c.readable().read(0, whole);
            assertThat(whole).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
            c.writable().write(1, new byte[] {9, 9, 9});
            assertThat(memory.readBytes(0x10200, 2)).containsExactly(0, 9);
            assertThat(memory.readBytes(0x10300, 3)).containsExactly(9, 9, 0);
            c.writable().write(7, new byte[] {7});
            assertThat(memory.readByte(0x10305)).isEqualTo((byte) 7);
            assertThat(memory.readByte(0x10306)).as("past the buffer").isZero();
        }

        @Test
        void slicesAreViewsOfGuestMemoryOnePerBufferTouched() throws Exception {
            SplitQueue q = queue(false, false);
            driver.addChain(List.of(Buf.out(0x10200, 2), Buf.out(0x10300, 6), Buf.out(0x10400, 4)));
            GuestBuffers w = q.pop().writable();
            assertThat(w.slices(1, 3)).extracting(MemorySegment::byteSize).containsExactly(1L, 2L);
            assertThat(w.slices(0, 12)).extracting(MemorySegment::byteSize).containsExactly(2L, 6L, 4L);
            assertThat(w.slices(2, 6)).extracting(MemorySegment::byteSize).containsExactly(6L);
            assertThat(w.slices(12, 0)).isEmpty();
            List<MemorySegment> s = w.slices(7, 2);
            s.get(0).set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 0x55);
            s.get(1).set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 0x66);
            assertThat(memory.readByte(0x10305)).isEqualTo((byte) 0x55);
            assertThat(memory.readByte(0x10400)).isEqualTo((byte) 0x66);
        }

        @Test
        void rangesOutsideTheStreamAreRefused() throws Exception {
            SplitQueue q = queue(false, false);
            driver.addChain(List.of(Buf.out(0x10200, 2), Buf.out(0x10300, 6)));
            GuestBuffers w = q.pop().writable();
            assertThatThrownBy(() -> w.slices(5, 4)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> w.slices(-1, 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> w.slices(0, -1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> w.slices(9, 0)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> w.slices(1, Long.MAX_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> w.write(7, new byte[2])).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> w.read(0, new byte[9])).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(memory.readBytes(0x10300, 6)).as("a refused write writes nothing").containsOnly(0);
        }
    }

    @Nested
    class Indirect {
        @Test
        void indirectChainsWhenNegotiated() throws Exception {
            SplitQueue q = queue(false, true);
            memory.write(0x10000, new byte[] {1, 2, 3});
            int head = driver.addIndirectChain(0x20000, List.of(Buf.in(0x10000, 16), Buf.out(0x10100, 64), Buf.out(0x10200, 1)));
            DescriptorChain c = q.pop();
            assertThat(c.head()).isEqualTo(head);
            assertThat(c.readable().descriptors()).containsExactly(new Descriptor(0x10000, 16, false));
            assertThat(c.writable().descriptors()).containsExactly(new Descriptor(0x10100, 64, true), new Descriptor(0x10200, 1, true));
            byte[] got = new byte[3];
            c.readable().read(0, got);
            assertThat(got).containsExactly(1, 2, 3);
            q.addUsed(head, 65);
            assertThat(driver.used()).containsExactly(new Used(head, 65));
        }

        @Test
        void indirectAndDirectChainsMix() throws Exception {
            SplitQueue q = queue(false, true);
            int a = driver.addChain(List.of(Buf.in(0x30000, 4), Buf.out(0x30100, 4)));
            int b = driver.addIndirectChain(List.of(Buf.in(0x30200, 4), Buf.in(0x30300, 4), Buf.out(0x30400, 4)));
            int c = driver.addChain(List.of(Buf.out(0x30500, 4)));
            assertThat(q.pop().head()).isEqualTo(a);
            DescriptorChain bc = q.pop();
            assertThat(bc.head()).isEqualTo(b);
            assertThat(bc.readable().length()).isEqualTo(8);
            assertThat(q.pop().head()).isEqualTo(c);
        }

        @Test
        void directDescriptorsMayLeadToOneIndirectTable() throws Exception {
            // Device requirement (virtio 1.2, 2.7.5.3.2): zero or more chained descriptors, then an indirect one.
            SplitQueue q = queue(false, true);
            driver.writeDescriptor(0x20000, 0, 0x10100, 8, DESC_F_NEXT, 1);
            driver.writeDescriptor(0x20000, 1, 0x10200, 8, DESC_F_WRITE, 0);
            driver.writeDescriptor(3, 0x10000, 4, DESC_F_NEXT, 4);
            // The WRITE flag on the descriptor naming the table means nothing and is ignored.
            driver.writeDescriptor(4, 0x20000, 32, DESC_F_INDIRECT | DESC_F_WRITE, 0);
            driver.publish(3);
            DescriptorChain c = q.pop();
            assertThat(c.head()).isEqualTo(3);
            assertThat(c.readable().descriptors()).containsExactly(new Descriptor(0x10000, 4, false), new Descriptor(0x10100, 8, false));
            assertThat(c.writable().descriptors()).containsExactly(new Descriptor(0x10200, 8, true));
        }

        @Test
        void aFullIndirectTablePops() throws Exception {
            SplitQueue q = queue(false, true);
            List<Buf> bufs = new ArrayList<>();
            for (int i = 0; i < SplitQueue.MAX_INDIRECT; i++) bufs.add(Buf.out(0x10000 + i, 1));
            driver.addIndirectChain(0x40000, bufs);
            assertThat(q.pop().writable().length()).isEqualTo(SplitQueue.MAX_INDIRECT);
        }

        @Test
        void refusedWhenNotNegotiated() throws Exception {
            SplitQueue q = queue(false, false);
            driver.addIndirectChain(0x20000, List.of(Buf.in(0x10000, 16)));
            refused(q).hasMessageContaining("not negotiated").hasMessageContaining(hex(driver.descriptorAddress(0)));
        }

        @Test
        void badIndirectTablesAreRefusedWithTheirAddress() throws Exception {
            record Case(long table, int length, int flags, String message) {}
            for (Case k : List.of(
                    new Case(0x20000, 24, DESC_F_INDIRECT, "0x20000 has bad length 24"),
                    new Case(0x20000, 0, DESC_F_INDIRECT, "0x20000 has bad length 0"),
                    new Case(0x20000, -16, DESC_F_INDIRECT, "0x20000 has bad length 4294967280"),
                    new Case(0x20000, 16 * (SplitQueue.MAX_INDIRECT + 1), DESC_F_INDIRECT, "0x20000 has bad length"),
                    new Case(0x20008, 32, DESC_F_INDIRECT, "0x20008 is not 16-byte aligned"),
                    new Case(RAM - 16, 32, DESC_F_INDIRECT, "[0xffff0, +32) of descriptor at 0x1000 is outside guest RAM"),
                    new Case(-16L, 32, DESC_F_INDIRECT, "[0xfffffffffffffff0, +32) of descriptor at 0x1000 is outside guest RAM"),
                    new Case(0x20000, 32, DESC_F_INDIRECT | DESC_F_NEXT, "indirect descriptor at 0x1000 also has NEXT"))) {
                VirtqueueDriver d = new VirtqueueDriver(memory, 0x1000, SIZE, 0x10000, RAM);
                d.writeDescriptor(0, k.table(), k.length(), k.flags(), 1);
                d.publish(0);
                SplitQueue q = new SplitQueue(memory, d.layout(), false, true);
                refused(q).as(k.message()).hasMessageContaining(k.message());
            }
        }

        @Test
        void nestedIndirectIsRefused() throws Exception {
            driver.writeDescriptor(0x20000, 0, 0x30000, 16, DESC_F_INDIRECT, 0);
            driver.writeDescriptor(0, 0x20000, 16, DESC_F_INDIRECT, 0);
            driver.publish(0);
            refused(queue(false, true)).hasMessageContaining("descriptor at 0x20000 nests an indirect table");
        }

        @Test
        void buffersInAnIndirectTableAreCheckedLikeAnyOther() throws Exception {
            driver.addIndirectChain(0x20000, List.of(Buf.in(0x10000, 4), Buf.out(RAM - 2, 4)));
            refused(queue(false, true)).hasMessageContaining("[0xffffe, +4) of descriptor at 0x20010 is outside guest RAM");
        }

        @Test
        void nextIndexPastAnIndirectTableIsRefused() throws Exception {
            driver.writeDescriptor(0x20000, 0, 0x10000, 4, DESC_F_NEXT, 1);
            driver.writeDescriptor(0x20000, 1, 0x10000, 4, DESC_F_NEXT, 2);
            driver.writeDescriptor(0, 0x20000, 32, DESC_F_INDIRECT, 0);
            driver.publish(0);
            refused(queue(false, true)).hasMessageContaining("descriptor at 0x20010 chains to index 2 of 2");
        }

        @Test
        void loopsInsideAnIndirectTableAreCaught() throws Exception {
            driver.writeDescriptor(0x20000, 0, 0x10000, 4, DESC_F_NEXT, 1);
            driver.writeDescriptor(0x20000, 1, 0x10000, 4, DESC_F_NEXT, 2);
            driver.writeDescriptor(0x20000, 2, 0x10000, 4, DESC_F_NEXT, 1);
            driver.writeDescriptor(0, 0x20000, 48, DESC_F_INDIRECT, 0);
            driver.publish(0);
            refused(queue(false, true)).hasMessageContaining("loops").hasMessageContaining("0x20000");
        }

        @Test
        void readableInTheTableAfterWritableBeforeItIsRefused() throws Exception {
            driver.writeDescriptor(0x20000, 0, 0x10100, 8, 0, 0);
            driver.writeDescriptor(0, 0x10000, 4, DESC_F_WRITE | DESC_F_NEXT, 1);
            driver.writeDescriptor(1, 0x20000, 16, DESC_F_INDIRECT, 0);
            driver.publish(0);
            refused(queue(false, true)).hasMessageContaining("readable descriptor at 0x20000 follows a writable one");
        }
    }

    @Nested
    class HostileDriver {
        @Test
        void headIndexPastTheQueueSize() throws Exception {
            driver.publish(SIZE);
            refused(queue(false, false)).hasMessageContaining("entry at " + hex(driver.availSlotAddress(0)) + " names descriptor 8 of 8");
            VirtqueueDriver d = new VirtqueueDriver(memory, 0x1000, SIZE, 0x10000, RAM);
            d.publish(0xffff);
            refused(new SplitQueue(memory, d.layout(), false, false)).hasMessageContaining("names descriptor 65535 of 8");
        }

        @Test
        void nextIndexPastTheQueueSizeNamesTheDescriptorThatLinksThere() throws Exception {
            driver.writeDescriptor(2, 0x10000, 4, DESC_F_NEXT, 3);
            driver.writeDescriptor(3, 0x10000, 4, DESC_F_NEXT, 12);
            driver.publish(2);
            refused(queue(false, false)).hasMessageContaining("descriptor at " + hex(driver.descriptorAddress(3)) + " chains to index 12 of 8");
        }

        @Test
        void aLoopIsCaughtInsteadOfSpinning() throws Exception {
            driver.writeDescriptor(0, 0x10000, 4, DESC_F_NEXT, 1);
            driver.writeDescriptor(1, 0x10000, 4, DESC_F_NEXT, 0);
            driver.publish(0);
            refused(queue(false, false)).hasMessageContaining("loops").hasMessageContaining(hex(driver.layout().descriptorTable()));
        }

        @Test
        void aSelfLoopIsCaught() throws Exception {
            driver.writeDescriptor(5, 0x10000, 4, DESC_F_NEXT, 5);
            driver.publish(5);
            refused(queue(false, false)).hasMessageContaining("from head 5 loops");
        }

        @Test
        void aChainLongerThanTheQueueIsRefusedButOneAsLongIsFine() throws Exception {
            SplitQueue q = queue(false, false);
            List<Buf> all = new ArrayList<>();
            for (int i = 0; i < SIZE; i++) all.add(Buf.in(0x10000 + 0x10L * i, 16));
            driver.addChain(all);
            assertThat(q.pop().readable().descriptors()).hasSize(SIZE);
            // 0 -> 1 -> ... -> 7 -> 3: the ninth step revisits a descriptor, more than the queue can hold.
            for (int i = 0; i < SIZE; i++) driver.writeDescriptor(i, 0x10000, 4, DESC_F_NEXT, i == SIZE - 1 ? 3 : i + 1);
            driver.publish(0);
            refused(q).hasMessageContaining("exceeds 8 entries").hasMessageContaining(hex(driver.layout().descriptorTable()));
        }

        @Test
        void buffersOutsideGuestRam() throws Exception {
            driver.writeDescriptor(0, RAM - 8, 16, 0, 0);
            driver.publish(0);
            refused(queue(false, false)).hasMessageContaining("[0xffff8, +16) of descriptor at 0x1000 is outside guest RAM");
        }

        @Test
        void buffersWhollyPastTheEndOfRam() throws Exception {
            driver.writeDescriptor(0, 0x10000, 4, DESC_F_NEXT, 1);
            driver.writeDescriptor(1, 0x3f_0000_0000L, 512, DESC_F_WRITE, 0);
            driver.publish(0);
            refused(queue(false, false)).hasMessageContaining("[0x3f00000000, +512) of descriptor at 0x1010");
        }

        @Test
        void buffersWhoseEndWrapsPastTwoToTheSixtyFour() throws Exception {
            driver.writeDescriptor(0, -8L, 16, 0, 0);
            driver.publish(0);
            refused(queue(false, false)).hasMessageContaining("0xfffffffffffffff8").hasMessageContaining("outside guest RAM");
            VirtqueueDriver d = new VirtqueueDriver(memory, 0x1000, SIZE, 0x10000, RAM);
            d.writeDescriptor(0, 0x10000, -1, DESC_F_WRITE, 0); // 4 GiB - 1 bytes
            d.publish(0);
            refused(new SplitQueue(memory, d.layout(), false, false)).hasMessageContaining("[0x10000, +4294967295)");
        }

        @Test
        void buffersStraddlingTwoRamRegions() throws Exception {
            // Two adjacent regions: a buffer may lie in either but not cross from one into the other.
            GuestMemory two = new SegmentGuestMemory(List.of(
                    new MemoryRegion(0, MemorySegment.ofArray(new byte[0x20000])),
                    new MemoryRegion(0x20000, MemorySegment.ofArray(new byte[0x20000]))));
            VirtqueueDriver d = new VirtqueueDriver(two, 0x1000, SIZE, 0x10000, 0x40000);
            d.addChain(List.of(Buf.in(0x1fff0, 16), Buf.out(0x20000, 16)));
            d.addChain(List.of(Buf.in(0x1fff0, 32)));
            SplitQueue q = new SplitQueue(two, d.layout(), false, false);
            assertThat(q.pop().writable().length()).isEqualTo(16);
            refused(q).hasMessageContaining("[0x1fff0, +32) of descriptor at 0x1020 is outside guest RAM");
        }

        @Test
        void readableAfterWritable() throws Exception {
            driver.writeDescriptor(0, 0x10000, 4, DESC_F_WRITE | DESC_F_NEXT, 1);
            driver.writeDescriptor(1, 0x10100, 4, 0, 0);
            driver.publish(0);
            refused(queue(false, false)).hasMessageContaining("readable descriptor at 0x1010 follows a writable one");
        }

        @Test
        void availIndexJumpingByMoreThanTheQueueSize() throws Exception {
            SplitQueue q = queue(false, false);
            driver.setAvailIndex(SIZE + 1);
            refused(q).hasMessageContaining("available index jumped from 0 to 9").hasMessageContaining(hex(driver.layout().availRing()));
        }

        @Test
        void availIndexMovingBackwards() throws Exception {
            SplitQueue q = queue(false, false);
            driver.addChain(List.of(Buf.in(0x10000, 4)));
            driver.addChain(List.of(Buf.in(0x10000, 4)));
            q.pop();
            q.pop();
            driver.setAvailIndex(1); // 65535 chains ahead, as the device must read it
            refused(q).hasMessageContaining("jumped from 2 to 1");
        }

        @Test
        void availIndexExactlyAQueueAhead() throws Exception {
            SplitQueue q = queue(false, false);
            for (int i = 0; i < SIZE; i++) driver.writeDescriptor(i, 0x10000, 4, 0, 0);
            driver.setAvailIndex(SIZE); // every slot already names descriptor 0
            for (int i = 0; i < SIZE; i++) assertThat(q.pop().head()).isZero();
            assertThat(q.pop()).isNull();
        }

        @Test
        void layoutsTheDriverMayNotGiveAreRefusedByTheConstructor() {
            record Case(QueueLayout layout, String message) {}
            for (Case k : List.of(
                    new Case(new QueueLayout(6, 0x1000, 0x2000, 0x3000), "queue size 6 is not a power of two"),
                    new Case(new QueueLayout(0, 0x1000, 0x2000, 0x3000), "queue size 0 is not a power of two"),
                    new Case(new QueueLayout(-8, 0x1000, 0x2000, 0x3000), "queue size -8 is not a power of two"),
                    new Case(new QueueLayout(65536, 0x1000, 0x2000, 0x3000), "power of two up to 32768"),
                    new Case(new QueueLayout(8, 0x1008, 0x2000, 0x3000), "descriptor table at 0x1008 is not 16-byte aligned"),
                    new Case(new QueueLayout(8, 0x1000, 0x2001, 0x3000), "available ring at 0x2001 is not 2-byte aligned"),
                    new Case(new QueueLayout(8, 0x1000, 0x2000, 0x3002), "used ring at 0x3002 is not 4-byte aligned"),
                    new Case(new QueueLayout(8, RAM - 64, 0x2000, 0x3000), "descriptor table [0xfffc0, +128) is outside guest RAM"),
                    new Case(new QueueLayout(8, 0x1000, RAM - 20, 0x3000), "available ring [0xfffec, +22) is outside guest RAM"),
                    new Case(new QueueLayout(8, 0x1000, 0x2000, RAM - 8), "used ring [0xffff8, +70) is outside guest RAM"),
                    new Case(new QueueLayout(8, 0x1000, 0x2000, -64L), "used ring [0xffffffffffffffc0, +70) is outside guest RAM"),
                    new Case(new QueueLayout(32768, 0x1000, 0x2000, 0xd0000), "used ring [0xd0000, +262150) is outside guest RAM"),
                    // The used ring's flags on the available index: the fuzzers' spinning worker.
                    new Case(new QueueLayout(2, 0x1000, 0x102, 0x104), "used ring [0x104, +22) overlaps the available ring [0x102, +10)"),
                    new Case(new QueueLayout(8, 0x1000, 0x2000, 0x1040), "used ring [0x1040, +70) overlaps the descriptor table [0x1000, +128)"),
                    new Case(new QueueLayout(8, 0x1000, 0x2000, 0x1ffc), "used ring [0x1ffc, +70) overlaps the available ring [0x2000, +22)"))) {
                assertThatThrownBy(() -> new SplitQueue(memory, k.layout(), false, false)).as(k.message())
                        .isInstanceOf(VirtqueueException.class).hasMessageContaining(k.message());
            }
        }

        @Test
        void theLargestQueueFits() throws Exception {
            GuestMemory big = SegmentGuestMemory.onHeap(2 << 20);
            VirtqueueDriver d = new VirtqueueDriver(big, 0x1000, 32768);
            SplitQueue q = new SplitQueue(big, d.layout(), false, false);
            d.writeDescriptor(32767, 0x1f_0000, 4, 0, 0);
            d.publish(32767);
            assertThat(q.pop().head()).isEqualTo(32767);
        }
    }

    @Nested
    class Notifications {
        @Test
        void withoutEventIndexTheNoInterruptFlagDecides() throws Exception {
            SplitQueue q = queue(false, false);
            assertThat(q.needsInterrupt()).as("nothing completed").isFalse();
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).isTrue();
            assertThat(q.needsInterrupt()).as("nothing new since").isFalse();
            driver.setNoInterrupt(true);
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).isFalse();
            driver.setUsedEvent(1); // ignored without EVENT_IDX
            driver.clearNoInterrupt();
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).isTrue();
        }

        @Test
        void withEventIndexTheDriverGetsAnInterruptWhenUsedPassesItsEvent() throws Exception {
            SplitQueue q = queue(true, false);
            driver.setUsedEvent(2); // interrupt once entry 2 (the third) is used
            q.addUsed(0, 0);
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).as("used idx 2 has not passed event 2").isFalse();
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).as("used idx 3 passed event 2").isTrue();
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).as("event already passed before this batch").isFalse();
            driver.setNoInterrupt(true); // ignored with EVENT_IDX
            driver.setUsedEvent(4);
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).isTrue();
        }

        @Test
        void eventIndexFollowsVringNeedEvent() throws Exception {
            // vring_need_event(event, new, old) = (u16)(new - event - 1) < (u16)(new - old), for batches from 0.
            for (int batch = 1; batch <= 5; batch++) {
                for (int event : new int[] {65534, 65535, 0, 1, 2, 3, 4, 5, 6, 7, 0x8000}) {
                    VirtqueueDriver d = new VirtqueueDriver(memory, 0x1000, SIZE, 0x10000, RAM);
                    SplitQueue q = new SplitQueue(memory, d.layout(), true, false);
                    d.setUsedEvent(event);
                    for (int i = 0; i < batch; i++) q.addUsed(0, 0);
                    assertThat(q.needsInterrupt()).as("event %d after a batch of %d", event, batch).isEqualTo(event < batch);
                    // (an event just before the batch, 65535 = -1, was met before it: no interrupt now)
                }
            }
        }

        @Test
        void eventIndexComparisonWrapsAround() throws Exception {
            SplitQueue q = queue(true, false);
            for (int i = 0; i < 65535; i++) q.addUsed(0, 0);
            driver.setUsedEvent(65534);
            assertThat(q.needsInterrupt()).as("used idx 65535 passed event 65534").isTrue();
            driver.setUsedEvent(65535);
            q.addUsed(0, 0); // used idx 65535 -> 0
            assertThat(q.needsInterrupt()).as("used idx wrapped to 0, passing event 65535").isTrue();
            driver.setUsedEvent(1);
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).as("used idx 1 has not passed event 1").isFalse();
            driver.setUsedEvent(65535); // an event far behind: the driver's last wish is long met
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).isFalse();
            driver.setUsedEvent(2);
            q.addUsed(0, 0);
            assertThat(q.needsInterrupt()).as("used idx 3 passed event 2").isTrue();
        }

        @Test
        void disablingAndEnablingWithoutEventIndexUsesTheNoNotifyFlag() throws Exception {
            SplitQueue q = queue(false, false);
            assertThat(driver.deviceWantsNotification(0, false)).isTrue();
            q.disableNotifications();
            assertThat(driver.usedFlags()).isEqualTo(SplitQueue.USED_F_NO_NOTIFY);
            assertThat(driver.deviceWantsNotification(0, false)).isFalse();
            assertThat(q.enableNotifications()).as("nothing queued meanwhile").isFalse();
            assertThat(driver.usedFlags()).isZero();
            q.disableNotifications();
            driver.addChain(List.of(Buf.out(0x10000, 4)));
            assertThat(q.enableNotifications()).as("a chain queued meanwhile").isTrue();
            assertThat(driver.usedFlags()).isZero();
            q.pop();
            assertThat(q.enableNotifications()).isFalse();
        }

        @Test
        void withEventIndexEnablingNotificationsPublishesTheNextAvailIndex() throws Exception {
            SplitQueue q = queue(true, false);
            q.disableNotifications();
            assertThat(driver.usedFlags()).as("the flag is not used with EVENT_IDX").isZero();
            driver.addChain(List.of(Buf.out(0x10000, 4)));
            assertThat(q.enableNotifications()).as("a chain queued meanwhile").isTrue();
            assertThat(driver.availEvent()).isZero();
            q.pop();
            assertThat(q.enableNotifications()).isFalse();
            assertThat(driver.availEvent()).isEqualTo(1);
            int old = driver.availIndex();
            driver.addChain(List.of(Buf.out(0x10000, 4)));
            assertThat(driver.deviceWantsNotification(old, true)).as("avail idx moved past avail_event").isTrue();
            q.pop();
            q.disableNotifications();
            old = driver.availIndex();
            driver.addChain(List.of(Buf.out(0x10000, 4)));
            driver.addChain(List.of(Buf.out(0x10000, 4)));
            assertThat(driver.deviceWantsNotification(old, true)).as("avail_event 1 left behind").isFalse();
            assertThat(q.enableNotifications()).isTrue();
            assertThat(driver.availEvent()).isEqualTo(2);
        }
    }

    /**
     * The order of the device's accesses, which the spec's barriers are about (virtio 1.2, 2.7.7, 2.7.13): the
     * available index before the ring entry and descriptors it publishes, used elements before the used index
     * that publishes them, the used index before the driver's interrupt wishes are read.
     */
    @Nested
    class Ordering {
        final RecordingGuestMemory recording = new RecordingGuestMemory(memory);
        final QueueLayout layout = driver.layout();
        final long usedIdx = layout.usedRing() + 2;

        int first(List<RecordingGuestMemory.Write> log, long at, int len, boolean read) {
            return log.stream().filter(a -> a.isRead() == read && a.covers(at, len)).mapToInt(RecordingGuestMemory.Write::n).min().orElseThrow();
        }

        int last(List<RecordingGuestMemory.Write> log, long at, int len, boolean read) {
            return log.stream().filter(a -> a.isRead() == read && a.covers(at, len)).mapToInt(RecordingGuestMemory.Write::n).max().orElseThrow();
        }

        @Test
        void theAvailIndexIsReadBeforeTheRingEntryAndTheDescriptors() throws Exception {
            SplitQueue q = new SplitQueue(recording, layout, false, false);
            int head = driver.addChain(List.of(Buf.in(0x10000, 4)));
            q.pop();
            List<RecordingGuestMemory.Write> log = recording.accesses();
            int index = first(log, layout.availRing() + 2, 2, true);
            assertThat(index).isLessThan(first(log, driver.availSlotAddress(0), 2, true));
            assertThat(first(log, driver.availSlotAddress(0), 2, true)).isLessThan(first(log, driver.descriptorAddress(head), 8, true));
        }

        @Test
        void aUsedElementIsWrittenBeforeTheIndexThatPublishesItAndTheInterruptWishIsReadAfter() throws Exception {
            SplitQueue q = new SplitQueue(recording, layout, true, false);
            q.addUsed(5, 77);
            boolean ignored = q.needsInterrupt();
            List<RecordingGuestMemory.Write> log = recording.accesses();
            int publish = first(log, usedIdx, 2, false);
            assertThat(last(log, layout.usedRing() + 4, 4, false)).as("id").isLessThan(publish);
            assertThat(last(log, layout.usedRing() + 8, 4, false)).as("len").isLessThan(publish);
            assertThat(first(log, layout.availRing() + 4 + 2L * SIZE, 2, true)).as("used_event read after").isGreaterThan(publish);
            assertThat(driver.takeUsed()).containsExactly(new Used(5, 77));
        }

        @Test
        void severalCompletionsArePublishedTogetherByOneIndexWriteAfterAllTheirElements() throws Exception {
            SplitQueue q = new SplitQueue(recording, layout, false, false);
            q.addUsed(3, 1);
            assertThat(driver.takeUsed()).containsExactly(new Used(3, 1));
            // Across the ring's end: elements 1..7 then 0 again, one index write.
            List<SplitQueue.Completion> batch = new ArrayList<>();
            for (int i = 0; i < SIZE; i++) batch.add(new SplitQueue.Completion(i, 100 + i));
            q.addUsed(batch);
            List<RecordingGuestMemory.Write> indexWrites = recording.writes().stream().filter(w -> w.covers(usedIdx, 2)).toList();
            assertThat(indexWrites).hasSize(2);
            int publish = indexWrites.get(1).n();
            for (int e = 0; e < SIZE; e++) {
                assertThat(last(recording.accesses(), layout.usedRing() + 4 + 8L * e, 4, false)).as("element %d", e).isLessThan(publish);
            }
            assertThat(driver.usedIndex()).isEqualTo(1 + SIZE);
            List<Used> expected = new ArrayList<>();
            for (int i = 0; i < SIZE; i++) expected.add(new Used(i, 100 + i));
            assertThat(driver.takeUsed()).containsExactlyElementsOf(expected);
        }

        @Test
        void aBatchAcrossTheUsedIndexWrapIsPublishedWhole() throws Exception {
            SplitQueue q = new SplitQueue(memory, layout, false, false);
            for (int i = 0; i < 65532; i++) q.addUsed(i % SIZE, i);
            driver.takeUsed();
            List<SplitQueue.Completion> batch = new ArrayList<>();
            for (int i = 0; i < SIZE; i++) batch.add(new SplitQueue.Completion(i, 7 * i));
            q.addUsed(batch);
            assertThat(driver.usedIndex()).isEqualTo((65532 + SIZE) & 0xffff).isEqualTo(4);
            List<Used> expected = new ArrayList<>();
            for (int i = 0; i < SIZE; i++) expected.add(new Used(i, 7 * i));
            assertThat(driver.takeUsed()).containsExactlyElementsOf(expected);
        }

        @Test
        void moreCompletionsAtOnceThanTheQueueHoldsAreRefusedBeforeAnyIsWritten() throws Exception {
            SplitQueue q = new SplitQueue(recording, layout, false, false);
            List<SplitQueue.Completion> batch = new ArrayList<>();
            for (int i = 0; i <= SIZE; i++) batch.add(new SplitQueue.Completion(0, 0));
            assertThatThrownBy(() -> q.addUsed(batch)).isInstanceOf(IllegalArgumentException.class);
            assertThat(recording.writes()).isEmpty();
            q.addUsed(List.of());
            assertThat(recording.writes()).as("an empty batch publishes nothing").isEmpty();
        }
    }
}
