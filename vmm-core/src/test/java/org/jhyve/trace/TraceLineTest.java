package org.jhyve.trace;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TraceLineTest {
    private static VcpuTrace vcpu(int index, long rip) {
        VcpuTrace t = new VcpuTrace(index, null);
        t.atRip(rip);
        return t;
    }

    @Test
    void portWriteOnAVcpu() {
        String line = TraceLine.format(12_345_678_901L, vcpu(0, 0xffffffff81001234L),
                new TraceEvent.BusAccess(TraceKind.PIO, 0x3f8, 1, true, 0x41, "com1"));
        assertThat(line).isEqualTo("   12.345678901 vcpu0 rip=ffffffff81001234 pio   w 0x3f8/1 = 0x41 com1");
    }

    @Test
    void mmioReadOffAVcpuHasNoRip() {
        String line = TraceLine.format(5_000L, null,
                new TraceEvent.BusAccess(TraceKind.MMIO, 0xc000_0014L, 2, false, 0x1af4, "virtio-blk@0:4:0 BAR0"));
        assertThat(line).isEqualTo("    0.000005000 host  rip=-                mmio  r 0xc0000014/2 = 0x1af4 virtio-blk@0:4:0 BAR0");
    }

    @Test
    void aVcpuBeforeItsFirstExitHasNoRipYet() {
        assertThat(TraceLine.format(0, new VcpuTrace(3, null), new TraceEvent.Exit("interrupted", TraceEvent.NO_ADDRESS)))
                .isEqualTo("    0.000000000 vcpu3 rip=-                exit  interrupted");
    }

    @Test
    void exitsPciVirtqueuesAndInterrupts() {
        VcpuTrace v = vcpu(1, 0x7c05);
        assertThat(TraceLine.format(1, v, new TraceEvent.Exit("pio", 0xcf8)))
                .isEqualTo("    0.000000001 vcpu1 rip=0000000000007c05 exit  pio 0xcf8");
        assertThat(TraceLine.format(1, v, new TraceEvent.PciConfig(0, 31, 0, 0, 4, false, 0x7000_8086, "lpc")))
                .isEqualTo("    0.000000001 vcpu1 rip=0000000000007c05 pci   r 0:31:0 0x0/4 = 0x70008086 lpc");
        assertThat(TraceLine.format(1, v, new TraceEvent.PciConfig(0, 5, 0, 4, 2, true, 0x7, "empty")))
                .isEqualTo("    0.000000001 vcpu1 rip=0000000000007c05 pci   w 0:5:0 0x4/2 = 0x7 empty");
        assertThat(TraceLine.format(1, null, new TraceEvent.VirtqueueChain(0, 17, 3, 4113, "virtio-blk@0:4:0")))
                .isEqualTo("    0.000000001 host  rip=-                virtq q0 head=17 descs=3 bytes=4113 virtio-blk@0:4:0");
        assertThat(TraceLine.format(1, v, new TraceEvent.IrqLevel(4, true)))
                .isEqualTo("    0.000000001 vcpu1 rip=0000000000007c05 irq   gsi=4 level=1");
        assertThat(TraceLine.format(1, null, new TraceEvent.Msi(0xfee0_0000L, 0x4021)))
                .isEqualTo("    0.000000001 host  rip=-                irq   msi addr=0xfee00000 data=0x4021");
    }

    @Test
    void longRunsWidenTheSecondsColumn() {
        assertThat(TraceLine.format(123_456_000_000_000L, null, new TraceEvent.IrqLevel(9, false)))
                .startsWith("123456.000000000 host");
    }
}
