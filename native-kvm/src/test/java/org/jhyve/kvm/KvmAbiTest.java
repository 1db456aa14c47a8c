package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jhyve.hv.HypervisorException;
import org.jhyve.posix.Errno;
import org.junit.jupiter.api.Test;

/**
 * ioctl numbers against the values the C macros give ({@code printf("%lx", KVM_...)} with gcc and the UAPI
 * headers); the sized ones also confirm the struct layouts' sizes.
 */
class KvmAbiTest {

    @Test
    void systemIoctls() {
        assertThat(KvmAbi.GET_API_VERSION.number()).isEqualTo(0xae00L);
        // The userspace interrupt platform's, as <linux/kvm.h> defines them (gcc printed these).
        assertThat(KvmAbi.INTERRUPT.number()).isEqualTo(0x4004ae86L);
        assertThat(KvmAbi.NMI.number()).isEqualTo(0xae9aL);
        assertThat(KvmAbi.GET_TSC_KHZ.number()).isEqualTo(0xaea3L);
        assertThat(KvmAbi.X86_SET_MSR_FILTER.number()).isEqualTo(0x4188aec6L);
        assertThat(KvmAbi.CREATE_VM.number()).isEqualTo(0xae01L);
        assertThat(KvmAbi.CHECK_EXTENSION.number()).isEqualTo(0xae03L);
        assertThat(KvmAbi.GET_VCPU_MMAP_SIZE.number()).isEqualTo(0xae04L);
        assertThat(KvmAbi.GET_SUPPORTED_CPUID.number()).isEqualTo(0xc008ae05L);
    }

    @Test
    void vmIoctls() {
        assertThat(KvmAbi.CREATE_VCPU.number()).isEqualTo(0xae41L);
        assertThat(KvmAbi.SET_USER_MEMORY_REGION.number()).isEqualTo(0x4020ae46L);
        assertThat(KvmAbi.SET_TSS_ADDR.number()).isEqualTo(0xae47L);
        assertThat(KvmAbi.SET_IDENTITY_MAP_ADDR.number()).isEqualTo(0x4008ae48L);
        assertThat(KvmAbi.CREATE_IRQCHIP.number()).isEqualTo(0xae60L);
        assertThat(KvmAbi.IRQ_LINE.number()).isEqualTo(0x4008ae61L);
        assertThat(KvmAbi.IRQFD.number()).isEqualTo(0x4020ae76L);
        assertThat(KvmAbi.CREATE_PIT2.number()).isEqualTo(0x4040ae77L);
        assertThat(KvmAbi.IOEVENTFD.number()).isEqualTo(0x4040ae79L);
        assertThat(KvmAbi.SIGNAL_MSI.number()).isEqualTo(0x4020aea5L);
        assertThat(KvmAbi.ENABLE_CAP.number()).isEqualTo(0x4068aea3L);
    }

    @Test
    void vcpuIoctls() {
        assertThat(KvmAbi.RUN.number()).isEqualTo(0xae80L);
        assertThat(KvmAbi.GET_REGS.number()).isEqualTo(0x8090ae81L);
        assertThat(KvmAbi.SET_REGS.number()).isEqualTo(0x4090ae82L);
        assertThat(KvmAbi.GET_SREGS.number()).isEqualTo(0x8138ae83L);
        assertThat(KvmAbi.SET_SREGS.number()).isEqualTo(0x4138ae84L);
        assertThat(KvmAbi.TRANSLATE.number()).isEqualTo(0xc018ae85L);
        assertThat(KvmAbi.GET_MSRS.number()).isEqualTo(0xc008ae88L);
        assertThat(KvmAbi.SET_MSRS.number()).isEqualTo(0x4008ae89L);
        assertThat(KvmAbi.GET_FPU.number()).isEqualTo(0x81a0ae8cL);
        assertThat(KvmAbi.SET_FPU.number()).isEqualTo(0x41a0ae8dL);
        assertThat(KvmAbi.SET_CPUID2.number()).isEqualTo(0x4008ae90L);
        assertThat(KvmAbi.GET_MP_STATE.number()).isEqualTo(0x8004ae98L);
        assertThat(KvmAbi.SET_MP_STATE.number()).isEqualTo(0x4004ae99L);
        assertThat(KvmAbi.GET_VCPU_EVENTS.number()).isEqualTo(0x8040ae9fL);
        assertThat(KvmAbi.SET_VCPU_EVENTS.number()).isEqualTo(0x4040aea0L);
        assertThat(KvmAbi.SET_GUEST_DEBUG.number()).isEqualTo(0x4048ae9bL);
    }

    @Test
    void iocRejectsOversizedArgument() {
        assertThatThrownBy(() -> Ioctl.ioc(Ioctl.DIR_WRITE, KvmAbi.KVMIO, 1, 1 << 14))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void exitNames() {
        assertThat(KvmAbi.exitName(KvmAbi.EXIT_IO)).isEqualTo("KVM_EXIT_IO");
        assertThat(KvmAbi.exitName(KvmAbi.EXIT_SYSTEM_EVENT)).isEqualTo("KVM_EXIT_SYSTEM_EVENT");
        assertThat(KvmAbi.exitName(37)).isEqualTo("KVM_EXIT_NOTIFY");
        assertThat(KvmAbi.exitName(999)).isEqualTo("KVM_EXIT_999");
    }

    @Test
    void failedIoctlNamesRequestAndErrno() {
        assertThatThrownBy(() -> HostCalls.ioctl(-1, KvmAbi.GET_API_VERSION, 0))
                .isInstanceOf(HypervisorException.class)
                .hasMessageContaining("KVM_GET_API_VERSION")
                .hasMessageContaining("EBADF")
                .satisfies(e -> assertThat(((HypervisorException) e).errno()).isEqualTo(Errno.EBADF));
    }

    @Test
    void openingAMissingDeviceNamesPathAndErrno() {
        assertThatThrownBy(() -> KvmSystem.open("/nonexistent/kvm"))
                .isInstanceOf(HypervisorException.class)
                .hasMessageContaining("/nonexistent/kvm")
                .hasMessageContaining("ENOENT")
                .satisfies(e -> assertThat(((HypervisorException) e).errno()).isEqualTo(Errno.ENOENT));
    }
}
