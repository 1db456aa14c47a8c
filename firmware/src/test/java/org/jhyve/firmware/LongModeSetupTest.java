package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;

import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LongModeSetupTest {
    private GuestMemory memory;
    private SpecialRegisters sregs;

    @BeforeEach
    void install() {
        memory = SegmentGuestMemory.onHeap(16L << 20);
        sregs = LongModeSetup.install(memory);
    }

    @ParameterizedTest
    @ValueSource(longs = {0x0, 0x7c00, 0x1fffff, 0x200000, 0x100000, 0x1234567, 0xc0000000L, 0xfec00000L, 0xfee00000L,
            0xfffff000L, 0xffffffffL})
    void theFirst4GiBAreIdentityMappedWithWritable2MiBPages(long address) {
        PageWalk walk = PageWalk.of(memory, sregs.cr3(), address);
        assertThat(walk.physical()).isEqualTo(address);
        assertThat(walk.pml4e() & 0x3).as("PML4E present, writable").isEqualTo(0x3);
        assertThat(walk.pdpte() & 0x83).as("PDPTE present, writable, not a 1 GiB page").isEqualTo(0x3);
        assertThat(walk.pde() & 0x83).as("PDE present, writable, 2 MiB page").isEqualTo(0x83);
        assertThat(walk.pde() & 0x4).as("supervisor only").isZero();
    }

    @Test
    void nothingFrom4GiBUpIsMapped() {
        assertThat(PageWalk.of(memory, sregs.cr3(), 0x1_0000_0000L)).isNull();
        assertThat(PageWalk.of(memory, sregs.cr3(), 0x8000_0000_0000L)).isNull();
    }

    @Test
    void everyPageDirectoryEntryMapsItsOwn2MiB() {
        for (int i = 0; i < 4 * 512; i++) {
            long entry = memory.readLong(LowMemoryMap.PAGE_DIRECTORIES + 8L * i);
            assertThat(entry).as("PDE %d", i).isEqualTo((long) i << 21 | 0x83);
        }
    }

    @Test
    void theGdtHoldsExactlyTheLinuxBootDescriptorsAndATss() {
        assertThat(sregs.gdt().base()).isEqualTo(0x500);
        assertThat(sregs.gdt().limit()).isEqualTo(6 * 8 - 1);
        assertThat(memory.readLong(0x500)).isZero();
        assertThat(memory.readLong(0x508)).as("0x08: 32-bit code").isEqualTo(0x00cf9b000000ffffL);
        assertThat(memory.readLong(0x510)).as("0x10: __BOOT_CS, 64-bit code").isEqualTo(0x00af9b000000ffffL);
        assertThat(memory.readLong(0x518)).as("0x18: __BOOT_DS").isEqualTo(0x00cf93000000ffffL);
        assertThat(memory.readLong(0x520)).as("0x20: busy 64-bit TSS at 0x580").isEqualTo(0x00008b0005800067L);
        assertThat(memory.readLong(0x528)).as("TSS base bits 63-32").isZero();
    }

    @Test
    void theSegmentRegistersAreWhatTheGdtDescribes() {
        assertThat(sregs.cs().selector()).isEqualTo(0x10);
        assertThat(decode(sregs.cs().selector())).isEqualTo(sregs.cs());
        for (Segment data : new Segment[] {sregs.ds(), sregs.es(), sregs.fs(), sregs.gs(), sregs.ss()}) {
            assertThat(data.selector()).isEqualTo(0x18);
            assertThat(decode(data.selector())).isEqualTo(data);
        }
        assertThat(decode(sregs.tr().selector())).isEqualTo(sregs.tr());
        assertThat(decode(LongModeSetup.CODE32_SELECTOR)).isEqualTo(LongModeSetup.code32());
    }

    @Test
    void theControlRegistersSelect64BitModeWithPaging() {
        assertThat(sregs.cr0()).isEqualTo(0x80010033L); // PG | WP | NE | ET | MP | PE
        assertThat(sregs.cr4()).isEqualTo(0x20L); // PAE
        assertThat(sregs.cr3()).isEqualTo(0x9000L);
        assertThat(sregs.efer()).isEqualTo(0x500L); // LMA | LME, no SCE or NXE
        assertThat(sregs.longMode()).isTrue();
        assertThat(sregs.cs().l()).isTrue();
        assertThat(sregs.cs().db()).isFalse();
        assertThat(sregs.cs().dpl()).isZero();
        assertThat(sregs.apicBase()).isEqualTo(0xfee00900L);
    }

    @Test
    void trIsAUsableBusyTssAndLdtIsUnusable() {
        Segment tr = sregs.tr();
        assertThat(tr.type()).isEqualTo(11);
        assertThat(tr.present()).isTrue();
        assertThat(tr.unusable()).isFalse();
        assertThat(tr.s()).isFalse();
        assertThat(tr.limit()).isEqualTo(0x67);
        assertThat(tr.base()).isEqualTo(0x580);
        assertThat(sregs.ldt().unusable()).isTrue();
        assertThat(sregs.ldt().type()).isEqualTo(2);
        assertThat(sregs.idt().limit()).isZero();
    }

    @Test
    void theParameterPageAndTheRealModeAreaAreLeftAlone() {
        GuestMemory fresh = SegmentGuestMemory.onHeap(2L << 20);
        fresh.fill(0, 0x500, (byte) 0xaa);
        fresh.fill(0x600, 0x9000 - 0x600, (byte) 0xaa);
        LongModeSetup.install(fresh);
        assertThat(fresh.readBytes(0, 0x500)).containsOnly((byte) 0xaa);
        assertThat(fresh.readBytes(0x600, 0x9000 - 0x600)).containsOnly((byte) 0xaa);
    }

    @Test
    void theLowMemoryMapHasNoOverlaps() {
        assertThat(LowMemoryMap.GDT + 6 * 8).isLessThanOrEqualTo(LowMemoryMap.IDT);
        assertThat(LowMemoryMap.IDT + 8).isLessThanOrEqualTo(LowMemoryMap.TSS);
        assertThat(LowMemoryMap.TSS + LowMemoryMap.TSS_SIZE).isLessThanOrEqualTo(0x600);
        assertThat(LowMemoryMap.LONG_MODE_STACK_TOP).isBetween(0x8000L, LowMemoryMap.PML4);
        assertThat(LowMemoryMap.LONG_MODE_STACK_TOP % 16).isZero();
        assertThat(LowMemoryMap.PDPT).isEqualTo(LowMemoryMap.PML4 + 0x1000);
        assertThat(LowMemoryMap.PAGE_DIRECTORIES).isEqualTo(LowMemoryMap.PDPT + 0x1000);
        assertThat(LowMemoryMap.PAGE_TABLES_END).isEqualTo(0xf000);
    }

    /** Decodes the GDT descriptor for {@code selector} the way the CPU does, independently of the code under test. */
    private Segment decode(int selector) {
        long d = memory.readLong(sregs.gdt().base() + (selector & ~7));
        long base = (d >>> 16 & 0xffffff) | (d >>> 56 & 0xff) << 24;
        int access = (int) (d >>> 40 & 0xff);
        int flags = (int) (d >>> 52 & 0xf);
        boolean system = (access & 0x10) == 0;
        if (system) base |= memory.readLong(sregs.gdt().base() + (selector & ~7) + 8) << 32;
        long rawLimit = (d & 0xffff) | (d >>> 48 & 0xf) << 16;
        boolean g = (flags & 8) != 0;
        long limit = g ? rawLimit << 12 | 0xfff : rawLimit;
        return new Segment(base, (int) limit, selector, access & 0xf, (access & 0x80) != 0, access >>> 5 & 3,
                (flags & 4) != 0, !system, (flags & 2) != 0, g, (flags & 1) != 0, false);
    }

    /** A 4-level walk with 2 MiB pages; null when some level is not present. */
    record PageWalk(long pml4e, long pdpte, long pde, long physical) {
        private static final long ADDRESS = 0x000f_ffff_ffff_f000L;

        static PageWalk of(GuestMemory memory, long cr3, long linear) {
            long pml4e = memory.readLong((cr3 & ADDRESS) + 8 * (linear >>> 39 & 511));
            if ((pml4e & 1) == 0) return null;
            long pdpte = memory.readLong((pml4e & ADDRESS) + 8 * (linear >>> 30 & 511));
            if ((pdpte & 1) == 0) return null;
            long pde = memory.readLong((pdpte & ADDRESS) + 8 * (linear >>> 21 & 511));
            if ((pde & 1) == 0 || (pde & 0x80) == 0) return null;
            return new PageWalk(pml4e, pdpte, pde, (pde & ADDRESS & ~0x1fffffL) | (linear & 0x1fffff));
        }
    }
}
