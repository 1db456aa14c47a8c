package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.VmExit;
import org.junit.jupiter.api.Assumptions;

/** Tiny hand-assembled guests and the vCPU state to run them, for tests on real KVM. */
final class Guests {
    private Guests() {}

    /** Where test code is loaded. */
    static final long CODE = 0x1000;
    static final long MIB = 1L << 20;
    /** The end-of-program marker port: with the in-kernel irqchip, HLT would block in the kernel instead of exiting. */
    static final int DONE_PORT = 0xf4;

    static void assumeKvm() {
        Assumptions.assumeTrue(KvmHypervisor.isAvailable(),
                () -> "KVM is not usable here: " + KvmHypervisor.unavailableReason().orElse("?"));
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }

    /** Loads {@code code} at {@link #CODE} and points the vCPU at it in real mode, all segments at base 0. */
    static void realMode(KvmVm vm, KvmVcpu vcpu, byte[] code) {
        vm.memory().write(CODE, code);
        SpecialRegisters s = vcpu.getSpecialRegisters();
        Segment cs = Segment.realMode(0, 0xb);
        Segment ds = Segment.realMode(0, 0x3);
        vcpu.setSpecialRegisters(new SpecialRegisters(cs, ds, ds, ds, ds, ds, s.tr(), s.ldt(), s.gdt(), s.idt(),
                s.cr0() & ~SpecialRegisters.CR0_PE, s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase()));
        vcpu.setRegisters(Registers.initial(CODE));
    }

    /**
     * Loads {@code code} at {@link #CODE} and points the vCPU at it in flat 32-bit protected mode without
     * paging. The segment caches are loaded directly, so no GDT is needed until code reloads a segment.
     */
    static void protectedMode32(KvmVm vm, KvmVcpu vcpu, byte[] code) {
        vm.memory().write(CODE, code);
        SpecialRegisters s = vcpu.getSpecialRegisters();
        Segment data = Segment.data(0x10);
        vcpu.setSpecialRegisters(new SpecialRegisters(Segment.code32(0x8), data, data, data, data, data, s.tr(), s.ldt(),
                s.gdt(), s.idt(), s.cr0() | SpecialRegisters.CR0_PE, s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase()));
        vcpu.setRegisters(Registers.initial(CODE).withRsp(0x8000));
    }

    static VmExit.PortIo assertOut(VmExit exit, int port, int size, long value) {
        assertThat(exit).isInstanceOf(VmExit.PortIo.class);
        VmExit.PortIo io = (VmExit.PortIo) exit;
        assertThat(io.port()).as("port").isEqualTo(port);
        assertThat(io.write()).as("write").isTrue();
        assertThat(io.size()).as("size").isEqualTo(size);
        assertThat(io.count()).as("count").isEqualTo(1);
        assertThat(io.data().byteSize()).isEqualTo(size);
        long got = switch (size) {
            case 1 -> Byte.toUnsignedLong(io.data().get(ValueLayout.JAVA_BYTE, 0));
            case 2 -> Short.toUnsignedLong(io.data().get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
            default -> Integer.toUnsignedLong(io.data().get(ValueLayout.JAVA_INT_UNALIGNED, 0));
        };
        assertThat(got).as("data").isEqualTo(value);
        return io;
    }
}
