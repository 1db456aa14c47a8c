package org.jhyve.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link GuestMemory} must have, run against each implementation (heap-backed here,
 * mmap-backed in native-kvm). Subclasses supply memory with two regions: low RAM from 0 (at least
 * 1 MiB) and {@link #HIGH_SIZE} bytes from 4 GiB, as on a machine with RAM on both sides of the PCI hole.
 */
public abstract class GuestMemoryContract {
    protected static final long HIGH_SIZE = 8L << 20;

    protected abstract GuestMemory memory();

    private long lowEnd() {
        return memory().regions().get(0).end();
    }

    @Test
    void regionsAreLowRamAndRamAboveFourGiB() {
        assertThat(memory().regions()).hasSize(2);
        assertThat(memory().regions().get(0).guestAddress()).isZero();
        assertThat(memory().regions().get(1).guestAddress()).isEqualTo(MemoryLayout.HIGH_RAM_START);
        assertThat(memory().totalSize()).isEqualTo(lowEnd() + HIGH_SIZE);
    }

    @Test
    void valuesAreLittleEndianAndRoundTrip() {
        GuestMemory m = memory();
        m.writeLong(0x1000, 0x1122334455667788L);
        assertThat(m.readByte(0x1000)).isEqualTo((byte) 0x88);
        assertThat(m.readShort(0x1000)).isEqualTo((short) 0x7788);
        assertThat(m.readInt(0x1004)).isEqualTo(0x11223344);
        assertThat(m.readLong(0x1000)).isEqualTo(0x1122334455667788L);
        m.writeInt(MemoryLayout.HIGH_RAM_START + 12, 0xcafebabe);
        assertThat(m.readInt(MemoryLayout.HIGH_RAM_START + 12)).isEqualTo(0xcafebabe);
    }

    @Test
    void bulkCopiesAndSlicesSeeTheSameBytes() {
        GuestMemory m = memory();
        byte[] data = {1, 2, 3, 4, 5};
        m.write(0x2000, data);
        assertThat(m.readBytes(0x2000, 5)).containsExactly(1, 2, 3, 4, 5);
        assertThat(m.slice(0x2001, 2).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).containsExactly(2, 3);
        m.fill(0x2000, 5, (byte) 9);
        assertThat(m.readBytes(0x2000, 5)).containsOnly(9);
    }

    @Test
    void accessesThatLeaveRamAreRefusedWithTheGuestAddress() {
        GuestMemory m = memory();
        long endOfLow = lowEnd();
        assertThatThrownBy(() -> m.readInt(endOfLow - 2))
                .isInstanceOf(GuestMemoryException.class).hasMessageContaining(Long.toHexString(endOfLow - 2));
        assertThatThrownBy(() -> m.writeByte(endOfLow, (byte) 1)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.readLong(0xfee00000L)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.slice(MemoryLayout.HIGH_RAM_START + HIGH_SIZE - 4, 8)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.readByte(-1)).isInstanceOf(GuestMemoryException.class);
        assertThat(m.isValid(endOfLow - 4, 4)).isTrue();
        assertThat(m.isValid(endOfLow - 4, 5)).isFalse();
    }

    @Test
    void lengthsThatWouldOverflowAreRefusedNotWrapped() {
        GuestMemory m = memory();
        assertThatThrownBy(() -> m.slice(0x1000, Long.MAX_VALUE)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.slice(Long.MAX_VALUE - 1, 16)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.slice(0x1000, -1)).isInstanceOf(GuestMemoryException.class);
        assertThat(m.isValid(0x10, Long.MAX_VALUE - 8)).isFalse();
    }

    @Test
    void aRangeMayNotStraddleThePciHole() {
        assertThatThrownBy(() -> memory().slice(lowEnd() - 8, MemoryLayout.HIGH_RAM_START - lowEnd() + 16))
                .isInstanceOf(GuestMemoryException.class);
    }

    @Test
    void hostArrayBoundsAreCheckedToo() {
        byte[] small = new byte[4];
        assertThatThrownBy(() -> memory().read(0, small, 2, 4)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
