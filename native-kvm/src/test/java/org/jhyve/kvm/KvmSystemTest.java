package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** (a) /dev/kvm opens, speaks API 12 and has every capability jhyve needs. */
class KvmSystemTest {

    @BeforeEach // per test, so that each test is reported skipped, with the reason, where KVM is missing
    void kvm() {
        Guests.assumeKvm();
    }

    @Test
    void apiVersionAndCapabilities() {
        assertThat(KvmHypervisor.unavailableReason()).isEmpty();
        try (KvmSystem system = KvmSystem.open()) {
            assertThat(system.apiVersion()).isEqualTo(12);
            assertThat(KvmCap.missing(system::checkExtension)).isEmpty();
            assertThat(system.maxVcpus()).isGreaterThanOrEqualTo(system.recommendedVcpus()).isPositive();
            assertThat(system.vcpuMmapSize()).isGreaterThanOrEqualTo((int) KvmStructs.KVM_RUN.byteSize());
            System.out.printf("KVM: %d recommended / %d max vCPUs, vCPU mmap %d bytes, EXIT_ON_EMULATION_FAILURE %d%n",
                    system.recommendedVcpus(), system.maxVcpus(), system.vcpuMmapSize(),
                    system.checkExtension(KvmCap.EXIT_ON_EMULATION_FAILURE));
        }
    }

    @Test
    void supportedCpuidHasTheBasicLeaves() {
        try (KvmSystem system = KvmSystem.open()) {
            var cpuid = system.supportedCpuid();
            assertThat(cpuid).isNotEmpty();
            assertThat(cpuid).anySatisfy(e -> assertThat(e.function()).isZero());
            assertThat(cpuid).anySatisfy(e -> assertThat(e.function()).isEqualTo(1));
        }
    }

    @Test
    void hypervisorOpensAndCloses() {
        KvmHypervisor kvm = KvmHypervisor.open();
        assertThat(kvm.name()).isEqualTo("kvm");
        kvm.close();
        kvm.close();
    }
}
