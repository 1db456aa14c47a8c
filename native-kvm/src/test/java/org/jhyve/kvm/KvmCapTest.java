package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KvmCapTest {

    @Test
    void missingListsEveryAbsentRequiredCapability() {
        assertThat(KvmCap.missing(cap -> cap == KvmCap.IRQFD.number || cap == KvmCap.PIT2.number ? 0 : 1))
                .containsExactly(KvmCap.IRQFD, KvmCap.PIT2);
    }

    @Test
    void optionalCapabilitiesAreNotRequired() {
        assertThat(KvmCap.missing(cap -> cap == KvmCap.EXIT_ON_EMULATION_FAILURE.number ? 0 : 1)).isEmpty();
    }

    @Test
    void vcpuCountsMustBePositive() {
        assertThat(KvmCap.missing(cap -> cap == KvmCap.MAX_VCPUS.number ? 0 : 4)).containsExactly(KvmCap.MAX_VCPUS);
        assertThat(KvmCap.MAX_VCPUS.kernelName()).isEqualTo("KVM_CAP_MAX_VCPUS");
    }
}
