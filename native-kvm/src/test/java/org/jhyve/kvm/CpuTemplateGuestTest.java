package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.kvm.Guests.DONE_PORT;
import static org.jhyve.kvm.Guests.MIB;
import static org.jhyve.kvm.Guests.bytes;

import java.util.List;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.VmExit;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.Test;

/**
 * What a running vCPU's CPUID instruction returns with each CPU template, on real KVM: a real-mode guest
 * executes CPUID for leaf 0 (the vendor) and leaf 0x40000001 (KVM's PV features) and stops after each.
 */
class CpuTemplateGuestTest extends KvmTestBase {
    /** The registers after CPUID leaf 0, then after CPUID leaf 0x40000001. */
    private List<Registers> cpuidInGuest(CpuTemplate template) {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1, template.cpuid())); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(
                    0x66, 0x31, 0xc0,                     // xor eax, eax
                    0x0f, 0xa2,                           // cpuid
                    0xe6, DONE_PORT,                      // out 0xf4, al
                    0x66, 0xb8, 0x01, 0x00, 0x00, 0x40,   // mov eax, 0x40000001
                    0x0f, 0xa2,                           // cpuid
                    0xe6, DONE_PORT));                    // out 0xf4, al
            stopsAtTheDonePort(cpu.run());
            Registers leaf0 = cpu.getRegisters();
            stopsAtTheDonePort(cpu.run());
            return List.of(leaf0, cpu.getRegisters());
        }
    }

    private static void stopsAtTheDonePort(VmExit exit) {
        assertThat(exit).isInstanceOf(VmExit.PortIo.class);
        assertThat(((VmExit.PortIo) exit).port()).isEqualTo(DONE_PORT);
    }

    private CpuidEntry supported(int function) {
        return kvm.system().supportedCpuid().stream().filter(e -> e.function() == function).findFirst().orElseThrow();
    }

    private static String vendor(Registers r) {
        return CpuTemplateCpuidTest.vendor(new CpuidEntry(0, 0, 0, (int) r.rax(), (int) r.rbx(), (int) r.rcx(), (int) r.rdx()));
    }

    @Test
    void theHostTemplateShowsTheHostsVendorAndKvmsPvFeatures() {
        List<Registers> seen = cpuidInGuest(CpuTemplate.HOST);
        assertThat(vendor(seen.get(0))).isEqualTo(CpuTemplateCpuidTest.vendor(supported(0)));
        assertThat((int) seen.get(0).rax()).as("highest basic leaf").isEqualTo(supported(0).eax());
        assertThat((int) seen.get(1).rax()).isEqualTo(supported(0x40000001).eax());
    }

    @Test
    void thePvmTemplateShowsGenuineIntelWithoutHypercallFeatures() {
        List<Registers> seen = cpuidInGuest(CpuTemplate.PVM);
        assertThat(vendor(seen.get(0))).isEqualTo("GenuineIntel");
        assertThat((int) seen.get(0).rax()).as("highest basic leaf").isEqualTo(supported(0).eax());
        assertThat((int) seen.get(1).rax()).isEqualTo(supported(0x40000001).eax() & ~CpuTemplate.PV_HYPERCALL_FEATURES);
    }

    @Test
    void theTopologyOfTheVmSpecIsWhatTheGuestsCpuidShows() {
        org.junit.jupiter.api.Assumptions.assumeTrue(kvm.system().supportedCpuid().stream().anyMatch(e -> e.function() == 0xB),
                "KVM offers no leaf 0xB here");
        // bhyve's -c 8,sockets=2,cores=2,threads=2; vCPU 0 (the one that runs without a startup IPI) asks for leaf 0xB, sub-leaf 1.
        VmSpec spec = new VmSpec(16 * MIB, 8, CpuTemplate.HOST.cpuid(), new org.jhyve.hv.CpuTopology(2, 2, 2), false);
        try (KvmVm vm = kvm.createVm(spec); KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(
                    0x66, 0xb8, 0x0b, 0x00, 0x00, 0x00,   // mov eax, 0xb
                    0x66, 0xb9, 0x01, 0x00, 0x00, 0x00,   // mov ecx, 1
                    0x0f, 0xa2,                           // cpuid
                    0xe6, DONE_PORT));                    // out 0xf4, al
            stopsAtTheDonePort(cpu.run());
            Registers r = cpu.getRegisters();
            assertThat((int) r.rax() & 0x1f).as("shift to the package ID").isEqualTo(2);
            assertThat((int) r.rbx() & 0xffff).as("logical processors per package").isEqualTo(4);
            assertThat((int) r.rcx() & 0xff00).as("core level").isEqualTo(0x200);
            assertThat((int) r.rdx()).as("x2APIC ID").isZero();
        }
    }

    @Test
    void theHypervisorSaysWhatTheHostCpuSays() {
        assertThat(kvm.hasHardwareVirtualization()).isEqualTo(HostCpu.read().hasHardwareVirtualization());
    }
}
