package org.jhyve.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import org.jhyve.hv.VmExit;
import org.jhyve.testing.FakeHypervisor;
import org.junit.jupiter.api.Test;

/**
 * Whatever ends a vCPU thread ends the VM with status 4 (ERROR, jhyve's own failure) and says what it was: never
 * 1, which means the guest powered off, and never a VM left running on its other vCPUs.
 */
class VcpuFailureTest {
    final FakeHypervisor hypervisor = new FakeHypervisor();

    VirtualMachine build(int vcpus) {
        return VmBuilder.on(hypervisor).memory(1L << 20).vcpus(vcpus).boot(FakeHypervisor.NOTHING).build();
    }

    @SuppressWarnings("unchecked")
    static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
        throw (T) t;
    }

    @Test
    void aCheckedExceptionThrownThroughARunEndsTheVmWithAnError() throws Exception {
        try (VirtualMachine vm = build(2)) {
            // A device or hypervisor call that rethrows a checked exception unchecked (a MethodHandle, a lambda).
            hypervisor.vcpu(0).program(vcpu -> {
                throw sneaky(new IOException("disk went away"));
            });
            vm.start();
            VmOutcome outcome = vm.await(Duration.ofSeconds(5));
            assertThat(outcome).as("the VM ended, vCPU 1 included").isNotNull();
            assertThat(outcome.status()).isEqualTo(ExitStatus.ERROR);
            assertThat(outcome.status().code()).isEqualTo(4);
            assertThat(outcome.reason()).contains("vCPU 0").contains("IOException").contains("disk went away");
        }
    }

    @Test
    void anUncheckedExceptionEndsTheVmWithAnError() throws Exception {
        try (VirtualMachine vm = build(1)) {
            hypervisor.vcpu(0).program(vcpu -> {
                throw new IllegalStateException("KVM_RUN failed");
            });
            vm.start();
            VmOutcome outcome = vm.await(Duration.ofSeconds(5));
            assertThat(outcome.status()).isEqualTo(ExitStatus.ERROR);
            assertThat(outcome.reason()).contains("KVM_RUN failed");
        }
    }

    @Test
    void anExceptionThatFailsEvenToBeDescribedStillEndsTheVmWithAnError() throws Exception {
        try (VirtualMachine vm = build(1)) {
            hypervisor.vcpu(0).program(vcpu -> {
                throw new IllegalStateException() {
                    @Override
                    public String toString() {
                        throw new IllegalStateException("toString failed too");
                    }
                };
            });
            vm.start();
            VmOutcome outcome = vm.await(Duration.ofSeconds(5));
            assertThat(outcome).isNotNull();
            assertThat(outcome.status()).isEqualTo(ExitStatus.ERROR);
        }
    }

    @Test
    void aGuestThatPowersOffStillEndsWithStatusOne() throws Exception {
        try (VirtualMachine vm = build(1)) {
            hypervisor.vcpu(0).script(new VmExit.SystemEvent(VmExit.SystemEvent.Kind.SHUTDOWN, 0));
            vm.start();
            assertThat(vm.await(Duration.ofSeconds(5)).status()).isEqualTo(ExitStatus.POWER_OFF);
        }
    }
}
