package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.kvm.Guests.MIB;

import org.jhyve.hv.HypervisorException;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.Test;

/**
 * An MSI whose destination matches no vCPU is the guest's mistake (the guest programmed the address and data):
 * KVM_SIGNAL_MSI then fails with EPERM, and the VM counts and drops the message instead of throwing into the
 * device thread that sent it.
 *
 * <p>Which messages KVM refuses (measured on 6.18): a logical-mode broadcast (destination 0xff with DM set, or
 * with RH set) while no local APIC has a logical ID (software-disabled, as before the guest sets LDR) takes
 * KVM's slow path, finds no target and returns -1 = EPERM. A physical destination above every APIC ID is
 * dropped by KVM's fast path and returns 0: nothing for the VMM to do then.
 */
class MisroutedMsiTest extends KvmTestBase {
    /** Destination 0xff, destination mode logical (bit 2) and redirection hint (bit 3). */
    static final long LOGICAL_BROADCAST = 0xfee_ff00cL;
    /** Destination 0xff, physical mode, redirection hint. */
    static final long HINTED_BROADCAST = 0xfee_ff008L;

    @Test
    void anMsiThatNoVcpuAcceptsIsCountedAndDropped() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 2)); KvmVcpu cpu0 = vm.createVcpu(0); KvmVcpu cpu1 = vm.createVcpu(1)) {
            vm.signalMsi(LOGICAL_BROADCAST, 0x30);
            vm.signalMsi(HINTED_BROADCAST, 0x31);
            vm.signalMsi(LOGICAL_BROADCAST, 0x4130);
            assertThat(vm.misroutedMsis()).as("three messages found no vCPU").isEqualTo(3);

            vm.signalMsi(0xfee0_0000L, 0x30);
            vm.signalMsi(0xfee0_1000L, 0x30);
            assertThat(vm.misroutedMsis()).as("APIC IDs 0 and 1 are the vCPUs'").isEqualTo(3);
        }
    }

    @Test
    void aHostErrorStillThrows() {
        KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1));
        try (vm) {
            vm.createVcpu(0);
        }
        // The VM fd is closed: EBADF is the VMM's own bug, not the guest's, and must not be swallowed.
        assertThatThrownBy(() -> vm.signalMsi(0xfee0_0000L, 0x30)).isInstanceOf(IllegalStateException.class);
        assertThat(vm.misroutedMsis()).isZero();
    }
}
