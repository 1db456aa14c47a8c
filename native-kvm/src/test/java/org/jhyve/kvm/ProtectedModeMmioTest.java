package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.kvm.Guests.DONE_PORT;
import static org.jhyve.kvm.Guests.MIB;
import static org.jhyve.kvm.Guests.assertOut;
import static org.jhyve.kvm.Guests.bytes;

import java.lang.foreign.ValueLayout;
import org.jhyve.hv.VmExit;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.Test;

/** (d): a flat 32-bit protected-mode guest touching an address in the PCI hole gets MMIO exits. */
class ProtectedModeMmioTest extends KvmTestBase {
    private static final long MMIO = 0xd000_0000L;

    @Test
    void mmioWriteThenRead() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.protectedMode32(vm, cpu, bytes(
                    0xc7, 0x05, 0x00, 0x00, 0x00, 0xd0, 0x78, 0x56, 0x34, 0x12,  // mov dword [0xd0000000], 0x12345678
                    0xa1, 0x04, 0x00, 0x00, 0xd0,                                // mov eax, [0xd0000004]
                    0xe7, DONE_PORT));                                           // out 0xf4, eax

            VmExit exit = cpu.run();
            assertThat(exit).isInstanceOf(VmExit.Mmio.class);
            VmExit.Mmio write = (VmExit.Mmio) exit;
            assertThat(write.address()).isEqualTo(MMIO);
            assertThat(write.length()).isEqualTo(4);
            assertThat(write.write()).isTrue();
            assertThat(write.data().get(ValueLayout.JAVA_INT_UNALIGNED, 0)).isEqualTo(0x12345678);

            exit = cpu.run();
            assertThat(exit).isInstanceOf(VmExit.Mmio.class);
            VmExit.Mmio read = (VmExit.Mmio) exit;
            assertThat(read.address()).isEqualTo(MMIO + 4);
            assertThat(read.length()).isEqualTo(4);
            assertThat(read.write()).isFalse();
            read.data().set(ValueLayout.JAVA_INT_UNALIGNED, 0, 0xcafef00d);

            assertOut(cpu.run(), DONE_PORT, 4, 0xcafef00dL);
        }
    }

    @Test
    void ramWritesDoNotExit() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.protectedMode32(vm, cpu, bytes(
                    0xc7, 0x05, 0x00, 0x00, 0x20, 0x00, 0xef, 0xbe, 0xad, 0xde,  // mov dword [0x200000], 0xdeadbeef
                    0xe6, DONE_PORT));                                           // out 0xf4, al
            assertThat(cpu.run()).isInstanceOf(VmExit.PortIo.class);
            assertThat(vm.memory().readInt(0x20_0000)).isEqualTo(0xdeadbeef);
        }
    }
}
