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
        CpuidEntry leaf0 = intel.get(0);
        // CPUID returns the vendor in EBX, EDX, ECX order: "Genu" "ineI" "ntel".
        byte[] vendor = java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(leaf0.ebx()).putInt(leaf0.edx()).putInt(leaf0.ecx()).array();
        assertThat(new String(vendor, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("GenuineIntel");
        assertThat(leaf0.eax()).as("max leaf kept").isEqualTo(0x10);
        assertThat(intel.get(1).ebx() >>> 24).as("APIC ID").isEqualTo(3);
        assertThat(CpuidDefaults.forVcpu(supported, 0, false).get(0)).isEqualTo(supported.get(0));
    }

    @Test
    void hostsWithoutVmxOrSvmOfferNoHypercallBasedParavirtFeatures() {
        int features = 1 << 3 | 1 << 7 | 1 << 11 | 1 << 13 | 1 << 24; // clocksource2, unhalt, send-IPI, yield, stable
        List<CpuidEntry> supported = List.of(new CpuidEntry(0x40000001, 0, 0, features, 0, 0, 0));
        assertThat(CpuidDefaults.forVcpu(supported, 0, true).get(0).eax()).isEqualTo(1 << 3 | 1 << 24);
        assertThat(CpuidDefaults.forVcpu(supported, 0, false).get(0).eax()).isEqualTo(features);
    }
}
