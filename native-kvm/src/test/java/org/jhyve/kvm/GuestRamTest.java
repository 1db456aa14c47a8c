package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.kvm.Guests.MIB;

import org.jhyve.memory.MemoryLayout;
import org.jhyve.memory.MemoryRegion;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.Test;

/** (f): RAM beyond the PCI hole goes above 4 GiB, as a second slot. MAP_NORESERVE keeps this cheap. */
class GuestRamTest extends KvmTestBase {

    @Test
    void smallGuestHasOneRegion() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1))) {
            assertThat(vm.memory().regions()).hasSize(1);
            assertThat(vm.memory().totalSize()).isEqualTo(16 * MIB);
        }
    }

    @Test
    void ramAboveThreeGibIsSplitAroundTheHole() {
        long size = (3L << 30) + 64 * MIB;
        try (KvmVm vm = kvm.createVm(new VmSpec(size, 1))) {
            var regions = vm.memory().regions();
            assertThat(regions).hasSize(2);
            MemoryRegion low = regions.get(0);
            MemoryRegion high = regions.get(1);
            assertThat(low.guestAddress()).isZero();
            assertThat(low.size()).isEqualTo(MemoryLayout.PCI_HOLE_START);
            assertThat(high.guestAddress()).isEqualTo(MemoryLayout.HIGH_RAM_START);
            assertThat(high.size()).isEqualTo(64 * MIB);
            assertThat(vm.memory().totalSize()).isEqualTo(size);

            vm.memory().writeLong(MemoryLayout.HIGH_RAM_START + 0x1000, 0x0123_4567_89ab_cdefL);
            assertThat(vm.memory().readLong(MemoryLayout.HIGH_RAM_START + 0x1000)).isEqualTo(0x0123_4567_89ab_cdefL);
            assertThat(vm.memory().isValid(MemoryLayout.PCI_HOLE_START, 1)).isFalse();
        }
    }
}
