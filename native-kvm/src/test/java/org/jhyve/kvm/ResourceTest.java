package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.kvm.Guests.MIB;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** (j): closing releases every file descriptor; closing twice is harmless. */
class ResourceTest {

    @BeforeEach // per test, so that each test is reported skipped, with the reason, where KVM is missing
    void kvm() {
        Guests.assumeKvm();
    }

    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static void useAVm() {
        try (KvmHypervisor kvm = KvmHypervisor.open()) {
            KvmVm vm = kvm.createVm(new VmSpec(32 * MIB, 2));
            vm.createVcpu(0);
            vm.createVcpu(1);
            vm.registerIoEventFd(IoEventFd.Space.PIO, 0x600, 2, OptionalLong.empty());
            vm.registerIrqFd(9);
            vm.close(); // closes the vCPUs, the ioeventfd and the irqfd it still owns
            vm.close();
        }
    }

    @Test
    void closeReleasesAllFileDescriptors() throws IOException {
        useAVm(); // warm up: class loading opens jar files that stay open
        long before = openFds();
        useAVm();
        assertThat(openFds()).isEqualTo(before);
    }

    @Test
    void vmCreationCanBeRepeated() throws IOException {
        useAVm();
        long before = openFds();
        for (int i = 0; i < 20; i++) useAVm();
        assertThat(openFds()).isEqualTo(before);
    }
}
