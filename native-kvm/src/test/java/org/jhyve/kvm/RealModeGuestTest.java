package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.kvm.Guests.DONE_PORT;
import static org.jhyve.kvm.Guests.MIB;
import static org.jhyve.kvm.Guests.assertOut;
import static org.jhyve.kvm.Guests.bytes;

import java.lang.foreign.ValueLayout;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.VmExit;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.Test;

/** (b), (c), (i): real-mode guests doing port I/O on real KVM. */
class RealModeGuestTest extends KvmTestBase {
    private static final long CR4_OSFXSR = 1L << 9;

    @Test
    void outExitsCarryTheBytesInOrder() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(
                    0xba, 0xf8, 0x03,   // mov dx, 0x3f8
                    0xb0, 'A',          // mov al, 'A'
                    0xee,               // out dx, al
                    0xb0, 'B',          // mov al, 'B'
                    0xee,               // out dx, al
                    0xe6, DONE_PORT));  // out 0xf4, al

            assertOut(cpu.run(), 0x3f8, 1, 'A');
            assertOut(cpu.run(), 0x3f8, 1, 'B');
            assertOut(cpu.run(), DONE_PORT, 1, 'B');
            assertThat(cpu.getRegisters().rip()).isEqualTo(Guests.CODE + 11);
        }
    }

    @Test
    void wordOutCarriesLittleEndianData() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(
                    0xb8, 0x34, 0x12,   // mov ax, 0x1234
                    0xe7, 0x80));       // out 0x80, ax
            assertOut(cpu.run(), 0x80, 2, 0x1234);
        }
    }

    @Test
    void repOutsbDeliversEveryByte() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            vm.memory().write(0x1100, "xyz".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            Guests.realMode(vm, cpu, bytes(
                    0xbe, 0x00, 0x11,   // mov si, 0x1100
                    0xb9, 0x03, 0x00,   // mov cx, 3
                    0xba, 0xf8, 0x03,   // mov dx, 0x3f8
                    0xf3, 0x6e,         // rep outsb
                    0xe6, DONE_PORT));  // out 0xf4, al
            StringBuilder out = new StringBuilder();
            while (true) {
                VmExit.PortIo io = (VmExit.PortIo) cpu.run();
                if (io.port() == DONE_PORT) break;
                assertThat(io.port()).isEqualTo(0x3f8);
                assertThat(io.data().byteSize()).isEqualTo((long) io.size() * io.count());
                for (long i = 0; i < io.data().byteSize(); i++) out.append((char) io.data().get(ValueLayout.JAVA_BYTE, i));
            }
            assertThat(out).hasToString("xyz");
        }
    }

    @Test
    void inTakesTheValueTheHandlerWrites() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(
                    0xba, 0xf8, 0x03,   // mov dx, 0x3f8
                    0xec,               // in al, dx
                    0xe6, DONE_PORT));  // out 0xf4, al

            VmExit exit = cpu.run();
            assertThat(exit).isInstanceOf(VmExit.PortIo.class);
            VmExit.PortIo in = (VmExit.PortIo) exit;
            assertThat(in.port()).isEqualTo(0x3f8);
            assertThat(in.write()).isFalse();
            assertThat(in.size()).isEqualTo(1);
            in.data().set(ValueLayout.JAVA_BYTE, 0, (byte) 0x5a);

            assertOut(cpu.run(), DONE_PORT, 1, 0x5a);
        }
    }

    @Test
    void translateInRealModeIsTheIdentity() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(0xe6, DONE_PORT));
            assertThat(cpu.translate(0x1234)).isEqualTo(0x1234);
            assertThat(cpu.translate(0xabcde)).isEqualTo(0xabcde);
        }
    }

    /**
     * Where KVM emulates real mode (the PVM flavour on the project's machines), its emulator has no
     * {@code stmxcsr} and the exit must carry the instruction bytes; where real mode runs natively (VMX
     * unrestricted guest, SVM) the guest stores MXCSR and reports it.
     */
    @Test
    void emulationFailureCarriesTheInstructionBytes() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(
                    0x0f, 0xae, 0x1e, 0x00, 0x20,   // stmxcsr [0x2000]
                    0x66, 0xa1, 0x00, 0x20,         // mov eax, [0x2000]
                    0x66, 0xe7, DONE_PORT));        // out 0xf4, eax
            SpecialRegisters s = cpu.getSpecialRegisters();
            cpu.setSpecialRegisters(new SpecialRegisters(s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt(),
                    s.gdt(), s.idt(), s.cr0(), s.cr2(), s.cr3(), s.cr4() | CR4_OSFXSR, s.cr8(), s.efer(), s.apicBase()));

            VmExit exit = cpu.run();
            if (exit instanceof VmExit.InternalError e) {
                assertThat(e.isEmulationFailure()).isTrue();
                if (vm.reportsEmulationFailureBytes()) {
                    assertThat(e.instructionBytes()).startsWith(0x0f, 0xae, 0x1e, 0x00, 0x20);
                } else {
                    assertThat(e.instructionBytes()).isEmpty();
                }
                assertThat(cpu.getRegisters().rip()).isEqualTo(Guests.CODE);
            } else {
                assertOut(exit, DONE_PORT, 4, 0x1f80);
            }
        }
    }

    @Test
    void anInjectedExceptionRunsTheGuestsHandler() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            // Real-mode IVT entry 3 (#BP) at 0:0x0c points at 0000:2000, where the handler reports 0x33.
            vm.memory().writeShort(3 * 4, (short) 0x2000);
            vm.memory().writeShort(3 * 4 + 2, (short) 0);
            vm.memory().write(0x2000, bytes(0xb0, 0x33, 0xe6, DONE_PORT)); // mov al, 0x33; out 0xf4, al
            Guests.realMode(vm, cpu, bytes(
                    0xb0, 0x11, 0xe6, DONE_PORT,    // mov al, 0x11; out 0xf4, al
                    0xb0, 0x22, 0xe6, DONE_PORT));  // mov al, 0x22; out 0xf4, al (skipped by the #BP)
            cpu.setRegisters(cpu.getRegisters().withRsp(0x8000));
            assertOut(cpu.run(), DONE_PORT, 1, 0x11);
            cpu.injectException(3, -1);
            assertOut(cpu.run(), DONE_PORT, 1, 0x33);
            // The handler's frame holds the return IP: the instruction after the first out.
            assertThat(vm.memory().readShort(0x8000 - 6)).isEqualTo((short) (Guests.CODE + 4));
        }
    }
}
