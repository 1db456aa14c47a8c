package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Test;

class SplitQueueTest {
    static final long RAM = 1 << 20;
    final GuestMemory memory = SegmentGuestMemory.onHeap(RAM);
    final VirtqueueDriver driver = new VirtqueueDriver(memory, 0x1000, 8, 0x10000, RAM);

    SplitQueue queue(boolean eventIdx, boolean indirect) throws VirtqueueException {
        return new SplitQueue(memory, driver.layout(), eventIdx, indirect);
    }

    @Test
    void popsAChainWithReadableThenWritableBuffers() throws Exception {
        SplitQueue q = queue(false, false);
        assertThat(q.pop()).isNull();
        int head = driver.addChain(List.of(Buf.in(0x10000, 16), Buf.in(0x10100, 512), Buf.out(0x10400, 1)));
        DescriptorChain c = q.pop();
        assertThat(c.head()).isEqualTo(head);
        assertThat(c.readable().descriptors()).containsExactly(new Descriptor(0x10000, 16, false), new Descriptor(0x10100, 512, false));
        assertThat(c.writable().descriptors()).containsExactly(new Descriptor(0x10400, 1, true));
        assertThat(c.readable().length()).isEqualTo(528);
        assertThat(q.pop()).isNull();
    }

    @Test
    void chainsComeInOrderAndUsedEntriesGoBackWithTheirLengths() throws Exception {
        SplitQueue q = queue(false, false);
        int a = driver.addChain(List.of(Buf.out(0x10000, 8)));
        int b = driver.addChain(List.of(Buf.in(0x10100, 8), Buf.out(0x10200, 4)));
        assertThat(q.pop().head()).isEqualTo(a);
        assertThat(q.pop().head()).isEqualTo(b);
        q.addUsed(b, 4);
        q.addUsed(a, 8);
        assertThat(driver.takeUsed()).containsExactly(new VirtqueueDriver.Used(b, 4), new VirtqueueDriver.Used(a, 8));
        assertThat(driver.usedIndex()).isEqualTo(2);
    }

    @Test
    void indicesWrapAroundPast65535() throws Exception {
        SplitQueue q = queue(false, false);
        for (int i = 0; i < 65540; i++) {
            int head = driver.addChain(List.of(Buf.out(0x10000, 4)));
            DescriptorChain c = q.pop();
            assertThat(c.head()).isEqualTo(head);
            q.addUsed(c.head(), i);
            if (i >= 65533) assertThat(driver.takeUsed()).containsExactly(new VirtqueueDriver.Used(head, i));
            else driver.takeUsed();
        }
        assertThat(driver.usedIndex()).isEqualTo(4); // 65540 mod 65536
        assertThat(q.pop()).isNull();
    }

    @Test
    void guestBuffersReadAndWriteAcrossDescriptorBoundaries() throws Exception {
        SplitQueue q = queue(false, false);
        memory.write(0x10000, new byte[] {1, 2, 3});
        memory.write(0x10100, new byte[] {4, 5, 6, 7, 8});
        driver.addChain(List.of(Buf.in(0x10000, 3), Buf.in(0x10100, 5), Buf.out(0x10200, 2), Buf.out(0x10300, 6)));
        DescriptorChain c = q.pop();
        byte[] header = new byte[6];
        c.readable().read(1, header);
        assertThat(header).containsExactly(2, 3, 4, 5, 6, 7);
        c.writable().write(1, new byte[] {9, 9, 9});
        assertThat(memory.readBytes(0x10200, 2)).containsExactly(0, 9);
        assertThat(memory.readBytes(0x10300, 3)).containsExactly(9, 9, 0);
        assertThat(c.writable().slices(1, 3)).extracting(s -> s.byteSize()).containsExactly(1L, 2L);
        assertThatThrownBy(() -> c.writable().slices(5, 4)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void indirectChainsWhenNegotiated() throws Exception {
        SplitQueue q = queue(false, true);
        int head = driver.addIndirectChain(0x20000, List.of(Buf.in(0x10000, 16), Buf.out(0x10100, 64), Buf.out(0x10200, 1)));
        DescriptorChain c = q.pop();
        assertThat(c.head()).isEqualTo(head);
        assertThat(c.readable().length()).isEqualTo(16);
        assertThat(c.writable().length()).isEqualTo(65);
    }

    @Test
    void indirectRefusedWhenNotNegotiated() throws Exception {
        SplitQueue q = queue(false, false);
        driver.addIndirectChain(0x20000, List.of(Buf.in(0x10000, 16)));
        assertThatThrownBy(q::pop).isInstanceOf(VirtqueueException.class).hasMessageContaining("not negotiated").hasMessageContaining("0x1000");
    }

    @Test
    void badIndirectTablesAreRefusedWithTheirAddress() throws Exception {
        long desc = driver.layout().descriptorTable();
        record Case(long table, int length, int flags, String message) {}
        for (Case k : List.of(
                new Case(0x20000, 24, SplitQueue.DESC_F_INDIRECT, "bad length 24"),
                new Case(0x20000, 0, SplitQueue.DESC_F_INDIRECT, "bad length 0"),
                new Case(0x20008, 32, SplitQueue.DESC_F_INDIRECT, "0x20008 is not 16-byte aligned"),
                new Case(RAM - 16, 32, SplitQueue.DESC_F_INDIRECT, "outside guest RAM"),
                new Case(0x20000, 16 * (SplitQueue.MAX_INDIRECT + 1), SplitQueue.DESC_F_INDIRECT, "bad length"),
                new Case(0x20000, 32, SplitQueue.DESC_F_INDIRECT | SplitQueue.DESC_F_NEXT, "also has NEXT"))) {
            VirtqueueDriver d = new VirtqueueDriver(memory, 0x1000, 8, 0x10000, RAM);
            d.writeDescriptor(desc, 0, k.table(), k.length(), k.flags(), 1);
            d.publish(0);
            SplitQueue q = new SplitQueue(memory, d.layout(), false, true);
            assertThatThrownBy(q::pop).as(k.message()).isInstanceOf(VirtqueueException.class).hasMessageContaining(k.message());
        }
    }

    @Test
    void nestedIndirectIsRefused() throws Exception {
        driver.writeDescriptor(0x20000, 0, 0x30000, 16, SplitQueue.DESC_F_INDIRECT, 0);
        driver.writeDescriptor(driver.layout().descriptorTable(), 0, 0x20000, 16, SplitQueue.DESC_F_INDIRECT, 0);
        driver.publish(0);
        assertThatThrownBy(queue(false, true)::pop).hasMessageContaining("nests an indirect table").hasMessageContaining("0x20000");
    }

    @Test
    void hostileChainsThrowNamingTheGuestAddress() throws Exception {
        long desc = driver.layout().descriptorTable();
        // Head index past the queue size.
        driver.publish(9);
        assertThatThrownBy(queue(false, false)::pop).hasMessageContaining("entry at 0x1084 names descriptor 9 of 8");
    }

    @Test
    void nextIndexPastTheTableIsRefused() throws Exception {
        driver.writeDescriptor(driver.layout().descriptorTable(), 0, 0x10000, 4, SplitQueue.DESC_F_NEXT, 12);
        driver.publish(0);
        assertThatThrownBy(queue(false, false)::pop).isInstanceOf(VirtqueueException.class).hasMessageContaining("index 12 of 8");
    }

    @Test
    void loopsAreCaughtInsteadOfSpinning() throws Exception {
        long desc = driver.layout().descriptorTable();
        driver.writeDescriptor(desc, 0, 0x10000, 4, SplitQueue.DESC_F_NEXT, 1);
        driver.writeDescriptor(desc, 1, 0x10000, 4, SplitQueue.DESC_F_NEXT, 0);
        driver.publish(0);
        assertThatThrownBy(queue(false, false)::pop).hasMessageContaining("loops").hasMessageContaining("0x1000");
    }

    @Test
    void buffersOutsideGuestRamAreRefused() throws Exception {
        long desc = driver.layout().descriptorTable();
        driver.writeDescriptor(desc, 0, RAM - 8, 16, 0, 0);
        driver.publish(0);
        assertThatThrownBy(queue(false, false)::pop).hasMessageContaining("0xffff8").hasMessageContaining("outside guest RAM");
    }

    @Test
    void lengthsThatWrapPastTwoToTheSixtyFourAreRefused() throws Exception {
        long desc = driver.layout().descriptorTable();
        driver.writeDescriptor(desc, 0, -8L, 16, 0, 0);
        driver.publish(0);
        assertThatThrownBy(queue(false, false)::pop).hasMessageContaining("0xfffffffffffffff8").hasMessageContaining("outside guest RAM");
    }

    @Test
    void readableAfterWritableIsRefused() throws Exception {
        long desc = driver.layout().descriptorTable();
        driver.writeDescriptor(desc, 0, 0x10000, 4, SplitQueue.DESC_F_WRITE | SplitQueue.DESC_F_NEXT, 1);
        driver.writeDescriptor(desc, 1, 0x10100, 4, 0, 0);
        driver.publish(0);
        assertThatThrownBy(queue(false, false)::pop).hasMessageContaining("readable descriptor at 0x1010 follows a writable one");
    }

    @Test
    void availIndexJumpingPastTheQueueSizeIsRefused() throws Exception {
        SplitQueue q = queue(false, false);
        driver.setAvailIndex(9);
        assertThatThrownBy(q::pop).hasMessageContaining("available index jumped from 0 to 9").hasMessageContaining("0x1080");
    }

    @Test
    void layoutsTheDriverMayNotGiveAreRefused() {
        assertThatThrownBy(() -> new SplitQueue(memory, new QueueLayout(6, 0x1000, 0x2000, 0x3000), false, false)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> new SplitQueue(memory, new QueueLayout(8, 0x1008, 0x2000, 0x3000), false, false)).hasMessageContaining("0x1008 is not 16-byte aligned");
        assertThatThrownBy(() -> new SplitQueue(memory, new QueueLayout(8, 0x1000, 0x2001, 0x3000), false, false)).hasMessageContaining("0x2001");
        assertThatThrownBy(() -> new SplitQueue(memory, new QueueLayout(8, 0x1000, 0x2000, 0x3002), false, false)).hasMessageContaining("0x3002");
        assertThatThrownBy(() -> new SplitQueue(memory, new QueueLayout(8, 0x1000, 0x2000, RAM - 8), false, false)).hasMessageContaining("outside guest RAM");
        assertThatThrownBy(() -> new SplitQueue(memory, new QueueLayout(65536, 0x1000, 0x2000, 0x3000), false, false)).hasMessageContaining("power of two up to 32768");
    }

    @Test
    void withoutEventIndexTheNoInterruptFlagDecides() throws Exception {
        SplitQueue q = queue(false, false);
        assertThat(q.needsInterrupt()).as("nothing completed").isFalse();
        q.addUsed(0, 0);
        assertThat(q.needsInterrupt()).isTrue();
        driver.setNoInterrupt(true);
        q.addUsed(0, 0);
        assertThat(q.needsInterrupt()).isFalse();
    }

    @Test
    void withEventIndexTheDriverGetsAnInterruptWhenUsedPassesItsEvent() throws Exception {
        SplitQueue q = queue(true, false);
        driver.setUsedEvent(2); // interrupt when entry 2 (the third) is used
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
    void eventIndexComparisonWrapsAround() throws Exception {
        SplitQueue q = queue(true, false);
        for (int i = 0; i < 65535; i++) q.addUsed(0, 0);
        driver.setUsedEvent(65534);
        assertThat(q.needsInterrupt()).as("used idx 65535 passed event 65534").isTrue();
        driver.setUsedEvent(65535);
        q.addUsed(0, 0); // used idx 65535 -> 0
        assertThat(q.needsInterrupt()).as("used idx wrapped to 0, passing event 65535").isTrue();
    }

    @Test
    void enablingNotificationsReportsChainsQueuedMeanwhile() throws Exception {
        SplitQueue q = queue(false, false);
        q.disableNotifications();
        assertThat(driver.usedFlags()).isEqualTo(SplitQueue.USED_F_NO_NOTIFY);
        assertThat(q.enableNotifications()).isFalse();
        assertThat(driver.usedFlags()).isZero();
        driver.addChain(List.of(Buf.out(0x10000, 4)));
        assertThat(q.enableNotifications()).isTrue();

        SplitQueue e = new SplitQueue(memory, new VirtqueueDriver(memory, 0x4000, 8, 0x10000, RAM).layout(), true, false);
        assertThat(e.enableNotifications()).isFalse();
    }

    @Test
    void withEventIndexEnablingNotificationsPublishesTheNextAvailIndex() throws Exception {
        SplitQueue q = queue(true, false);
        driver.addChain(List.of(Buf.out(0x10000, 4)));
        q.pop();
        assertThat(q.enableNotifications()).isFalse();
        assertThat(driver.availEvent()).isEqualTo(1);
    }
}
