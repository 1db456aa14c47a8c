package org.jhyve.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
