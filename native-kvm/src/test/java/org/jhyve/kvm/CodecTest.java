package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.hv.CpuTopology;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.MsrEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.junit.jupiter.api.Test;

/** SPI records through the kernel struct layouts and back: no /dev/kvm needed. */
class CodecTest {

    @Test
    void registers() {
        Registers r = new Registers(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, -16, 0x1000, 0x202);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_REGS);
            RegsCodec.write(s, r);
            assertThat(s.get(JAVA_LONG, 128)).isEqualTo(0x1000L);
            assertThat(RegsCodec.read(s)).isEqualTo(r);
        }
    }

    @Test
    void specialRegistersKeepInterruptBitmap() {
        Segment tr = new Segment(0x5000, 0x67, 0x18, 0xb, true, 0, false, false, false, false, false, false);
        Segment ldt = new Segment(0, 0, 0, 0x2, false, 0, false, false, false, false, false, true);
        SpecialRegisters sr = new SpecialRegisters(Segment.code64(8), Segment.data(0x10), Segment.data(0x10),
                Segment.realMode(0xf000, 3), Segment.data(0x10), Segment.data(0x10), tr, ldt,
                new DescriptorTable(0x7000, 0xffff), new DescriptorTable(0x8000, 0xfff),
                0x80050033L, 0x1234, 0x9000, 0x20, 0, 0x500, 0xfee00900L);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_SREGS);
            long bitmap = KvmStructs.offset(KvmStructs.KVM_SREGS, "interrupt_bitmap");
            s.set(JAVA_LONG, bitmap, 1L << 33);
            SregsCodec.write(s, sr);
            assertThat(SregsCodec.read(s)).isEqualTo(sr);
            assertThat(s.get(JAVA_LONG, bitmap)).isEqualTo(1L << 33);
        }
    }

    @Test
    void fpu() {
        byte[] fpr = new byte[128];
        byte[] xmm = new byte[256];
        fpr[127] = 9;
        xmm[0] = 1;
        xmm[255] = 2;
        FpuState f = new FpuState(fpr, 0x37f, 0x1234, 0xff, 0x7ff, 0x1111, 0x2222, xmm, 0x1fa0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(KvmStructs.KVM_FPU);
            FpuCodec.write(s, f);
            FpuState back = FpuCodec.read(s);
            assertThat(back.fpr()).isEqualTo(fpr);
            assertThat(back.xmm()).isEqualTo(xmm);
            assertThat(List.of(back.fcw(), back.fsw(), back.ftwx(), back.lastOpcode(), back.mxcsr()))
                    .containsExactly(0x37f, 0x1234, 0xff, 0x7ff, 0x1fa0);
            assertThat(back.lastIp()).isEqualTo(0x1111);
            assertThat(back.lastDp()).isEqualTo(0x2222);
        }
    }

    @Test
    void cpuid() {
        List<CpuidEntry> entries = List.of(new CpuidEntry(0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
                new CpuidEntry(7, 1, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 1, 2, 3, -4));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = CpuidCodec.encode(a, entries);
            assertThat(s.byteSize()).isEqualTo(8 + 2 * 40);
            assertThat(CpuidCodec.decode(s)).isEqualTo(entries);
        }
    }

    @Test
    void cpuidDefaultsSetApicId() {
        List<CpuidEntry> supported = List.of(new CpuidEntry(1, 0, 0, 0x806f8, 0xff00_0800, 0, 0),
                new CpuidEntry(0xb, 1, 1, 0, 0, 0, 0), new CpuidEntry(0, 0, 0, 1, 2, 3, 4));
        List<CpuidEntry> v = CpuidDefaults.forVcpu(supported, 3, CpuTemplate.HOST.cpuid());
        assertThat(v.get(0).ebx()).isEqualTo(0x0301_0800);
        assertThat(v.get(1)).isEqualTo(supported.get(2));
        assertThat(v.get(2).function()).isEqualTo(0xb);
        assertThat(v.get(2).edx()).isEqualTo(3);
    }

    @Test
    void cpuidTopologyDescribesOnePackageOfSingleThreadedCores() {
        List<CpuidEntry> supported = List.of(new CpuidEntry(1, 0, 0, 0x806f8, 0x0010_0800, 0, 0),
                new CpuidEntry(4, 0, 1, 0x1c00_4121, 0, 0, 0),   // L1d, host: 8 cores, 2 threads sharing
                new CpuidEntry(4, 3, 1, 0x1c03_c163, 0, 0, 0),   // L3, host: 16 threads sharing
                new CpuidEntry(4, 4, 1, 0, 0, 0, 0),             // end of the cache list
                new CpuidEntry(0xb, 0, 1, 1, 2, 0x100, 7), new CpuidEntry(0xb, 1, 1, 4, 16, 0x201, 7),
                new CpuidEntry(0x1f, 0, 1, 1, 2, 0x100, 7));
        List<CpuidEntry> v = CpuidDefaults.forVcpu(supported, 2, 3, CpuTemplate.PVM.cpuid());
        CpuidEntry leaf1 = v.get(0);
        assertThat(leaf1.ebx() >>> 24).as("APIC ID").isEqualTo(2);
        assertThat((leaf1.ebx() >>> 16) & 0xff).as("addressable IDs: 3 rounded up").isEqualTo(4);
        assertThat(leaf1.edx() & 1 << 28).as("HTT").isNotZero();
        assertThat(v.get(1).eax() >>> 26).as("cores per package - 1").isEqualTo(3);
        assertThat((v.get(1).eax() >>> 14) & 0xfff).as("L1 is per core").isZero();
        assertThat((v.get(2).eax() >>> 14) & 0xfff).as("L3 is shared by the package").isEqualTo(3);
        assertThat(v.get(3)).isEqualTo(supported.get(3));
        assertThat(v).filteredOn(e -> e.function() == 0x1f).isEmpty();
        assertThat(v).filteredOn(e -> e.function() == 0xb).containsExactly(
                new CpuidEntry(0xb, 0, 1, 0, 1, 0x100, 2),
                new CpuidEntry(0xb, 1, 1, 2, 3, 0x201, 2),
                new CpuidEntry(0xb, 2, 1, 0, 0, 2, 2));
        assertThat(CpuidDefaults.forVcpu(supported, 0, 1, CpuTemplate.PVM.cpuid()).get(0).edx() & 1 << 28).as("no HTT alone").isZero();
    }

    @Test
    void cpuidTopologyDescribesSocketsCoresAndThreads() {
        List<CpuidEntry> supported = List.of(new CpuidEntry(1, 0, 0, 0x806f8, 0x0010_0800, 0, 0),
                new CpuidEntry(4, 0, 1, 0x1c00_4121, 0, 0, 0),   // L1d
                new CpuidEntry(4, 3, 1, 0x1c03_c163, 0, 0, 0),   // L3
                new CpuidEntry(0xb, 0, 1, 1, 2, 0x100, 7));
        // bhyve's -c 16,sockets=2,cores=4,threads=2: vCPU 13 is package 1, core 2, thread 1 (13 = 0b1_10_1).
        List<CpuidEntry> v = CpuidDefaults.forVcpu(supported, 13, new CpuTopology(2, 4, 2), CpuTemplate.HOST.cpuid());
        assertThat((v.get(0).ebx() >>> 16) & 0xff).as("logical processors per package").isEqualTo(8);
        assertThat(v.get(0).edx() & 1 << 28).as("HTT").isNotZero();
        assertThat(v.get(1).eax() >>> 26).as("cores per package - 1").isEqualTo(3);
        assertThat((v.get(1).eax() >>> 14) & 0xfff).as("L1 shared by the core's 2 threads").isEqualTo(1);
        assertThat((v.get(2).eax() >>> 14) & 0xfff).as("L3 shared by the package's 8").isEqualTo(7);
        assertThat(v).filteredOn(e -> e.function() == 0xb).containsExactly(
                new CpuidEntry(0xb, 0, 1, 1, 2, 0x100, 13),
                new CpuidEntry(0xb, 1, 1, 3, 8, 0x201, 13),
                new CpuidEntry(0xb, 2, 1, 0, 0, 2, 13));
        // -c 4 as bhyve reads it: 4 sockets of one single-threaded core, so no HTT and nothing shared.
        List<CpuidEntry> sockets = CpuidDefaults.forVcpu(supported, 3, new CpuTopology(4, 1, 1), CpuTemplate.HOST.cpuid());
        assertThat(sockets.get(0).edx() & 1 << 28).as("HTT").isZero();
        assertThat(sockets.get(2).eax() >>> 14).as("L3: one core, one thread").isZero();
        assertThat(sockets).filteredOn(e -> e.function() == 0xb).extracting(CpuidEntry::eax).containsExactly(0, 0, 0);
    }

    @Test
    void msrs() {
        List<MsrEntry> msrs = List.of(new MsrEntry(0x174, 0x10), new MsrEntry(0xc0000080, -1L));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = MsrCodec.encode(a, msrs);
            assertThat(s.byteSize()).isEqualTo(8 + 2 * 16);
            assertThat(MsrCodec.decode(s, 2)).isEqualTo(msrs);
            assertThat(MsrCodec.decode(s, 1)).containsExactly(msrs.get(0));
        }
    }
}
