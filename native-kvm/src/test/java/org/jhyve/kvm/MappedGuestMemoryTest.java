package org.jhyve.kvm;

import org.jhyve.hv.VmSpec;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.GuestMemoryContract;
import org.jhyve.memory.MemoryLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

/** The shared GuestMemory contract on KVM's mmap-backed guest RAM: 3 GiB below the hole and 8 MiB above 4 GiB. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MappedGuestMemoryTest extends GuestMemoryContract {
    private KvmHypervisor kvm;
    private KvmVm vm;

    @BeforeEach
    void kvmUsable() {
        Guests.assumeKvm();
    }

    @BeforeAll
    void open() {
        if (!KvmHypervisor.isAvailable()) return; // each test then reports the skip and its reason
        kvm = KvmHypervisor.open();
        vm = kvm.createVm(new VmSpec(MemoryLayout.PCI_HOLE_START + HIGH_SIZE, 1));
    }

    @AfterAll
    void close() {
        if (vm != null) vm.close();
        if (kvm != null) kvm.close();
    }

    @Override
    protected GuestMemory memory() {
        return vm.memory();
    }
}
