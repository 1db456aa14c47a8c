package org.jhyve.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.jhyve.hv.CpuidEntry;
import org.jhyve.hv.CpuidModifier;
import org.junit.jupiter.api.Test;

class CpuTemplateTest {
    @Test
    void hostsWithoutHardwareVirtualizationGetThePvmTemplate() {
        assertThat(CpuTemplate.forHost(false)).isEqualTo(CpuTemplate.PVM);
        assertThat(CpuTemplate.forHost(true)).isEqualTo(CpuTemplate.HOST);
    }

    @Test
    void pvmParametersAreAppendedToTheCommandLine() {
        assertThat(CpuTemplate.PVM.appendTo("console=ttyS0 ")).isEqualTo("console=ttyS0 noxsave nofsgsbase "
                + "clearcpuid=smap,popcnt,pcid,invpcid,rdpid,rdtscp,rdrand,rdseed,clflushopt,clwb,cx16,erms,fsrm");
        assertThat(CpuTemplate.PVM.appendTo("")).startsWith("noxsave");
        assertThat(CpuTemplate.HOST.appendTo("console=ttyS0")).isEqualTo("console=ttyS0");
    }

    @Test
    void namesAreLookedUpCaseInsensitivelyAndUnknownOnesListTheChoices() {
        assertThat(CpuTemplate.byName("PVM")).isEqualTo(CpuTemplate.PVM);
        assertThatThrownBy(() -> CpuTemplate.byName("skylake")).hasMessage("unknown CPU template 'skylake' (host, pvm)");
    }

    /** The CPUID each template makes of an AMD host's (native-kvm's CpuTemplateCpuidTest adds the topology). */
    @Test
    void eachTemplatesCpuidOnAnAmdHost() {
        List<CpuidEntry> amd = List.of(new CpuidEntry(0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65),
                new CpuidEntry(1, 0, 0, 0xa20f10, 0x0800, 1 << 13, 0),
                new CpuidEntry(0x40000001, 0, 0, 1 << 3 | 1 << 7 | 1 << 11 | 1 << 13 | 1 << 24, 0, 0, 0));
        assertThat(CpuidModifier.applyAll(CpuTemplate.HOST.cpuid(), amd)).isEqualTo(amd);
        assertThat(CpuidModifier.applyAll(CpuTemplate.PVM.cpuid(), amd)).containsExactly(
                new CpuidEntry(0, 0, 0, 0x10, 0x756e6547, 0x6c65746e, 0x49656e69), // GenuineIntel
                amd.get(1),                                                         // CX16 stays: clearcpuid= hides it
                new CpuidEntry(0x40000001, 0, 0, 1 << 3 | 1 << 24, 0, 0, 0));       // no unhalt, send-IPI, yield
    }
}
