package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.kvm.Guests.MIB;
import static org.jhyve.kvm.Guests.assertOut;
import static org.jhyve.kvm.Guests.bytes;

import java.util.List;
import org.jhyve.hv.CpuTopology;
import org.jhyve.hv.InterruptInjection;
import org.jhyve.hv.InterruptPlatform;
import org.jhyve.hv.VmExit;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.Test;

/**
 * KVM without its in-kernel irqchip, on real KVM: what jhyve's userspace platform stands on. HLT exits, an
 * interrupt injected with KVM_INTERRUPT runs the guest's handler, the interrupt window opens when the guest
 * enables interrupts, the APIC's MSRs exit to userspace and a refused one raises #GP in the guest.
 */
class UserspaceIrqchipKvmTest extends KvmTestBase {
    private static VmSpec userspace() {
        return new VmSpec(16 * MIB, 1, List.of(), CpuTopology.onePackage(1), false, InterruptPlatform.USERSPACE);
    }

    /** IVT entry {@code vector} -> 0000:handler. */
    private static void ivt(KvmVm vm, int vector, int handler) {
        vm.memory().write(vector * 4L, bytes(handler & 0xff, handler >> 8, 0, 0));
    }

    @Test
    void haltExitsAndAnInjectedInterruptRunsItsHandler() {
        try (KvmVm vm = kvm.createVm(userspace()); KvmVcpu cpu = vm.createVcpu(0)) {
            InterruptInjection inj = cpu.interruptInjection().orElseThrow();
            ivt(vm, 0x40, 0x1100);
            vm.memory().write(0x1100, bytes(0xb0, 0x40, 0xe6, 0x80, 0xcf)); // mov al,0x40; out 0x80,al; iret
            Guests.realMode(vm, cpu, bytes(
                    0xbc, 0x00, 0x80,   // mov sp, 0x8000
                    0xfb,               // sti
                    0xf4,               // hlt
                    0xb0, 0x01,         // mov al, 1
                    0xe6, 0xf4));       // out 0xf4, al
            assertThat(cpu.run()).isInstanceOf(VmExit.Halt.class);
            assertThat(inj.canInjectInterrupt()).as("IF set after sti; hlt").isTrue();
            inj.injectInterrupt(0x40);
            assertOut(cpu.run(), 0x80, 1, 0x40);
            assertOut(cpu.run(), 0xf4, 1, 1);
        }
    }

    @Test
    void theInterruptWindowOpensWhenTheGuestEnablesInterrupts() {
        try (KvmVm vm = kvm.createVm(userspace()); KvmVcpu cpu = vm.createVcpu(0)) {
            InterruptInjection inj = cpu.interruptInjection().orElseThrow();
            Guests.realMode(vm, cpu, bytes(
                    0xfa,               // cli
                    0xe6, 0x81,         // out 0x81, al
                    0xfb,               // sti
                    // A loop, not a few nops: on KVM without VMX (PVM, every CPL0 instruction emulated) the window exit
                    // comes when the emulator next looks for events, measured here after about 1,000 instructions.
                    0xb9, 0x00, 0x10,   // mov cx, 0x1000
                    0xe2, 0xfe,         // loop $
                    0xe6, 0xf4));       // out 0xf4, al
            assertOut(cpu.run(), 0x81, 1, 0);
            assertThat(inj.canInjectInterrupt()).as("IF clear").isFalse();
            inj.requestInterruptWindow(true);
            VmExit exit = cpu.run();
            assertThat(exit).isInstanceOf(VmExit.InterruptWindow.class);
            assertThat(inj.canInjectInterrupt()).isTrue();
            inj.requestInterruptWindow(false);
            assertOut(cpu.run(), 0xf4, 1, 0);
        }
    }

    @Test
    void apicMsrsExitToUserspaceAndAFaultReachesTheGuest() {
        try (KvmVm vm = kvm.createVm(userspace()); KvmVcpu cpu = vm.createVcpu(0)) {
            ivt(vm, 13, 0x1200); // #GP handler: out 0x82, then skip the 2-byte wrmsr and return
            vm.memory().write(0x1200, bytes(0xe6, 0x82, 0x89, 0xe5, 0x83, 0x46, 0x00, 0x02, 0xcf)); // out 0x82,al; mov bp,sp; add word [bp+0],2; iret
            Guests.realMode(vm, cpu, bytes(
                    0xbc, 0x00, 0x80,               // mov sp, 0x8000
                    0x66, 0xb9, 0xe0, 0x06, 0, 0,   // mov ecx, 0x6e0 (IA32_TSC_DEADLINE)
                    0x66, 0xb8, 0x78, 0x56, 0x34, 0x12, // mov eax, 0x12345678
                    0x66, 0x31, 0xd2,               // xor edx, edx
                    0x0f, 0x30,                     // wrmsr
                    0x66, 0xb9, 0x02, 0x08, 0, 0,   // mov ecx, 0x802 (x2APIC ID)
                    0x0f, 0x32,                     // rdmsr
                    0xe6, 0x83,                     // out 0x83, al (the value read)
                    0x66, 0xb9, 0x03, 0x08, 0, 0,   // mov ecx, 0x803
                    0x0f, 0x30,                     // wrmsr (refused below: #GP)
                    0xe6, 0xf4));                   // out 0xf4, al
            VmExit exit = cpu.run();
            assertThat(exit).isInstanceOfSatisfying(VmExit.Msr.class, m -> {
                assertThat(m.index()).isEqualTo(0x6e0);
                assertThat(m.write()).isTrue();
                assertThat(m.value()).isEqualTo(0x12345678L);
                m.reply().complete(0);
            });
            exit = cpu.run();
            assertThat(exit).isInstanceOfSatisfying(VmExit.Msr.class, m -> {
                assertThat(m.index()).isEqualTo(0x802);
                assertThat(m.write()).isFalse();
                m.reply().complete(0x5a);
            });
            assertOut(cpu.run(), 0x83, 1, 0x5a);
            exit = cpu.run();
            assertThat(exit).isInstanceOfSatisfying(VmExit.Msr.class, m -> {
                assertThat(m.index()).isEqualTo(0x803);
                m.reply().fault();
            });
            assertOut(cpu.run(), 0x82, 1, 0x5a);
            assertOut(cpu.run(), 0xf4, 1, 0x5a);
        }
    }

    @Test
    void aVmWithoutTheInKernelIrqchipRefusesItsLines() {
        try (KvmVm vm = kvm.createVm(userspace())) {
            assertThatThrownBy(() -> vm.setIrqLine(4, true)).hasMessageContaining("no in-kernel irqchip");
        }
    }
}
