package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;

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
}
