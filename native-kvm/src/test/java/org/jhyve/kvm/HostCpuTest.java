package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import org.jhyve.hv.CpuidEntry;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostCpuTest {
    @Test
    void readsTheFlagsOfTheFirstProcessor() {
        String cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme sse2 svm lm\n\nprocessor\t: 1\nflags\t\t: fpu\n";
        HostCpu cpu = HostCpu.parse(cpuinfo);
        assertThat(cpu.flags()).contains("svm", "lm");
        assertThat(cpu.hasHardwareVirtualization()).isTrue();
        assertThat(HostCpu.parse("flags\t: fpu vme sse2 hypervisor\n").hasHardwareVirtualization()).isFalse();
        assertThat(HostCpu.parse("vmx-less text\n").hasHardwareVirtualization()).isFalse();
    }

    @Test
    void intelVendorReplacesLeafZeroOnly() {
        List<CpuidEntry> supported = List.of(new CpuidEntry(0, 0, 0, 0x10, 0x68747541, 0x69746e65, 0x444d4163),
                new CpuidEntry(1, 0, 0, 0xa20f10, 0x0800, 0x1, 0x2));
        List<CpuidEntry> intel = CpuidDefaults.forVcpu(supported, 3, true);
        assertThat(intel.get(0)).isEqualTo(new CpuidEntry(0, 0, 0, 0x10, 0x756e6547, 0x49656e69, 0x6c65746e));
        assertThat(intel.get(1).ebx() >>> 24).as("APIC ID").isEqualTo(3);
        assertThat(CpuidDefaults.forVcpu(supported, 0, false).get(0)).isEqualTo(supported.get(0));
    }
}
