package org.jhyve.kvm;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

/** Tests on real KVM: one open /dev/kvm per class, skipped with the reason where KVM is not usable. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class KvmTestBase {
    protected KvmHypervisor kvm;

    @BeforeEach
    void kvmUsable() {
        Guests.assumeKvm();
    }

    @BeforeAll
    void openKvm() {
        if (!KvmHypervisor.isAvailable()) return; // each test then reports the skip and its reason
        kvm = KvmHypervisor.open();
    }

    @AfterAll
    void closeKvm() {
        if (kvm != null) kvm.close();
    }
}
