package org.jhyve.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.bus.Bus;
import org.jhyve.bus.BusDevice;
import org.jhyve.hv.VmExit;
import org.junit.jupiter.api.Test;

class ExitHandlerTest {
    private final Bus io = new Bus("port-io");
    private final Bus mmio = new Bus("mmio");
    private final ExitHandler handler = new ExitHandler(io, mmio);
    private final List<String> seen = new ArrayList<>();

    private final BusDevice recorder = new BusDevice() {
        @Override
        public long read(long offset, int size) {
            seen.add("read " + offset + "/" + size);
            return 0x44332211L;
        }

        @Override
        public void write(long offset, int size, long value) {
            seen.add("write " + offset + "/" + size + "=" + Long.toHexString(value));
        }
    };

    @Test
    void outWritesEachItemOfARepOutsToTheDevice() {
        io.register(0x3f8, 8, "uart", recorder);
        MemorySegment data = MemorySegment.ofArray(new byte[] {'h', 'i'});
        handler.portIo(new VmExit.PortIo(0x3f8, 1, 2, true, data));
        assertThat(seen).containsExactly("write 0/1=68", "write 0/1=69");
    }

    @Test
    void inFillsTheDataAreaLittleEndian() {
        io.register(0xcfc, 4, "cfg", recorder);
        MemorySegment data = Arena.ofAuto().allocate(4);
        handler.portIo(new VmExit.PortIo(0xcfc, 4, 1, false, data));
        assertThat(data.get(ValueLayout.JAVA_INT_UNALIGNED, 0)).isEqualTo(0x44332211);
    }

    @Test
    void unclaimedInReadsAllOnes() {
        MemorySegment data = Arena.ofAuto().allocate(2);
        handler.portIo(new VmExit.PortIo(0x80, 2, 1, false, data));
        assertThat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0)).isEqualTo((short) -1);
    }

    @Test
    void mmioReachesTheDeviceAtItsOffset() {
        mmio.register(0xd000_0000L, 0x1000, "bar", recorder);
        MemorySegment data = Arena.ofAuto().allocate(8);
        data.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 0x0102030405060708L);
        handler.mmio(new VmExit.Mmio(0xd000_0010L, 8, true, data));
        handler.mmio(new VmExit.Mmio(0xd000_0020L, 2, false, data));
        assertThat(seen).containsExactly("write 16/8=102030405060708", "read 32/2");
        assertThat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0)).isEqualTo((short) 0x2211);
    }

    @Test
    void aDeviceThatThrowsIsContainedAndTheReadGetsAllOnes() {
        io.register(0x500, 1, "broken", new BusDevice() {
            @Override public long read(long offset, int size) { throw new IllegalStateException("bug in device"); }

            @Override public void write(long offset, int size, long value) { throw new IllegalStateException("bug in device"); }
        });
        MemorySegment data = Arena.ofAuto().allocate(1);
        handler.portIo(new VmExit.PortIo(0x500, 1, 1, false, data));
        assertThat(data.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) -1);
        handler.portIo(new VmExit.PortIo(0x500, 1, 1, true, data)); // must not throw
    }
}
