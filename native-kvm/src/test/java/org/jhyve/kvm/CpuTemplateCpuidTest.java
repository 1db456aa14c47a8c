package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.CpuidModifier;
import org.junit.jupiter.api.Test;

/**
 * The CPUID a guest sees with each CPU template, from {@link CpuidDefaults#forVcpu} on a made-up AMD host's
 * supported CPUID: no KVM needed ({@link CpuTemplateGuestTest} reads it back from a running vCPU).
 */
class CpuTemplateCpuidTest {
    static final int AMD_EBX = 0x68747541, AMD_EDX = 0x69746e65, AMD_ECX = 0x444d4163; // "Auth" "enti" "cAMD"
    static final int CX16 = 1 << 13, RDRAND = 1 << 30, POPCNT = 1 << 23;              // leaf 1 ECX
    static final int PV_FEATURES = 1 << 3 | 1 << 7 | 1 << 11 | 1 << 13 | 1 << 24;     // clocksource2, unhalt, send-IPI, yield, stable

    /** What KVM's KVM_GET_SUPPORTED_CPUID could say on an AMD host: vendor, features, KVM's leaves, a cache leaf. */
    static final List<CpuidEntry> AMD_HOST = List.of(
            new CpuidEntry(0, 0, 0, 0x10, AMD_EBX, AMD_ECX, AMD_EDX),
            new CpuidEntry(1, 0, 0, 0xa20f10, 0x0800, CX16 | RDRAND | POPCNT | 1, 0x178bfbff),
            new CpuidEntry(7, 0, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 0, 0x219c91a9, 0, 0),
            new CpuidEntry(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
            new CpuidEntry(0x40000001, 0, 0, PV_FEATURES, 0, 0, 0),
            new CpuidEntry(0x80000001, 0, 0, 0xa20f10, 0, 0x75c237ff, 0x2fd3fbff));

    static String vendor(CpuidEntry leaf0) {
        // CPUID returns the vendor in EBX, EDX, ECX order.
        byte[] b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(leaf0.ebx()).putInt(leaf0.edx()).putInt(leaf0.ecx()).array();
        return new String(b, StandardCharsets.US_ASCII);
    }

    static CpuidEntry leaf(List<CpuidEntry> cpuid, int function) {
        return cpuid.stream().filter(e -> e.function() == function).findFirst().orElseThrow();
    }

    @Test
    void hostTemplateShowsKvmsCpuidAsItIs() {
        List<CpuidEntry> guest = CpuidDefaults.forVcpu(AMD_HOST, 0, CpuTemplate.HOST.cpuid());
        assertThat(vendor(leaf(guest, 0))).isEqualTo("AuthenticAMD");
        assertThat(leaf(guest, 0x40000001).eax()).as("every PV feature KVM offers").isEqualTo(PV_FEATURES);
        // Apart from leaf 1's APIC ID and HTT (the topology, not the template), every leaf is KVM's.
        assertThat(guest).hasSameSizeAs(AMD_HOST);
        for (int i = 0; i < AMD_HOST.size(); i++) {
            if (AMD_HOST.get(i).function() != 1) assertThat(guest.get(i)).isEqualTo(AMD_HOST.get(i));
        }
        assertThat(leaf(guest, 1).ecx()).isEqualTo(leaf(AMD_HOST, 1).ecx());
        assertThat(CpuTemplate.HOST.cpuid()).isEmpty();
        assertThat(CpuTemplate.HOST.kernelParameters()).isEmpty();
    }

    @Test
    void pvmTemplateShowsIntelWithoutHypercallFeaturesAndKeepsTheRest() {
        List<CpuidEntry> guest = CpuidDefaults.forVcpu(AMD_HOST, 0, CpuTemplate.PVM.cpuid());
        assertThat(vendor(leaf(guest, 0))).isEqualTo("GenuineIntel");
        assertThat(leaf(guest, 0).eax()).as("highest basic leaf kept").isEqualTo(0x10);
        assertThat(leaf(guest, 0x40000001).eax()).as("clocksource2 and stable clock only").isEqualTo(1 << 3 | 1 << 24);
        assertThat(leaf(guest, 0x40000000)).as("KVM's signature leaf").isEqualTo(leaf(AMD_HOST, 0x40000000));
        // CX16, RDRAND, POPCNT, ... stay in CPUID: the template turns them off with clearcpuid= instead.
        assertThat(leaf(guest, 1).ecx()).isEqualTo(leaf(AMD_HOST, 1).ecx());
        assertThat(CpuTemplate.PVM.kernelParameters()).contains("clearcpuid=").contains("cx16").contains("rdrand");
        assertThat(leaf(guest, 7)).isEqualTo(leaf(AMD_HOST, 7));
        assertThat(leaf(guest, 0x80000001)).isEqualTo(leaf(AMD_HOST, 0x80000001));
    }

    @Test
    void pvmTemplateIsTheVendorAndTheHypercallFeaturesAsData() {
        assertThat(CpuTemplate.PVM.cpuid()).containsExactlyElementsOf(concat(CpuidModifier.vendor("GenuineIntel"),
                CpuidModifier.clear(0x40000001, CpuidModifier.Register.EAX, 1 << 7 | 1 << 11 | 1 << 13)));
    }

    private static List<CpuidModifier> concat(List<CpuidModifier> a, CpuidModifier b) {
        return java.util.stream.Stream.concat(a.stream(), java.util.stream.Stream.of(b)).toList();
    }

    // Moved from HostCpuTest, which was about the host's flags; the flag they passed is the pvm template now.

    @Test
    void intelVendorReplacesLeafZeroOnly() {
        List<CpuidEntry> supported = List.of(new CpuidEntry(0, 0, 0, 0x10, 0x68747541, 0x69746e65, 0x444d4163),
                new CpuidEntry(1, 0, 0, 0xa20f10, 0x0800, 0x1, 0x2));
        List<CpuidEntry> intel = CpuidDefaults.forVcpu(supported, 3, CpuTemplate.PVM.cpuid());
        CpuidEntry leaf0 = intel.get(0);
        // CPUID returns the vendor in EBX, EDX, ECX order: "Genu" "ineI" "ntel".
        byte[] vendor = java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(leaf0.ebx()).putInt(leaf0.edx()).putInt(leaf0.ecx()).array();
        assertThat(new String(vendor, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("GenuineIntel");
        assertThat(leaf0.eax()).as("max leaf kept").isEqualTo(0x10);
        assertThat(intel.get(1).ebx() >>> 24).as("APIC ID").isEqualTo(3);
        assertThat(CpuidDefaults.forVcpu(supported, 0, CpuTemplate.HOST.cpuid()).get(0)).isEqualTo(supported.get(0));
    }

    @Test
    void hostsWithoutVmxOrSvmOfferNoHypercallBasedParavirtFeatures() {
        int features = 1 << 3 | 1 << 7 | 1 << 11 | 1 << 13 | 1 << 24; // clocksource2, unhalt, send-IPI, yield, stable
        List<CpuidEntry> supported = List.of(new CpuidEntry(0x40000001, 0, 0, features, 0, 0, 0));
        assertThat(CpuidDefaults.forVcpu(supported, 0, CpuTemplate.PVM.cpuid()).get(0).eax()).isEqualTo(1 << 3 | 1 << 24);
        assertThat(CpuidDefaults.forVcpu(supported, 0, CpuTemplate.HOST.cpuid()).get(0).eax()).isEqualTo(features);
    }
}
