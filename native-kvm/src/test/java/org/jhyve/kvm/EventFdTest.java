package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.kvm.Guests.DONE_PORT;
import static org.jhyve.kvm.Guests.MIB;
import static org.jhyve.kvm.Guests.assertOut;
import static org.jhyve.kvm.Guests.bytes;

import java.util.OptionalLong;
import org.jhyve.hv.VmSpec;
import org.junit.jupiter.api.Test;

/** (g): ioeventfd completes guest writes in the kernel; irqfd takes interrupts by eventfd. */
class EventFdTest extends KvmTestBase {

    @Test
    void portWriteSignalsTheEventFdWithoutAnExit() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0);
             IoEventFd doorbell = vm.registerIoEventFd(IoEventFd.Space.PIO, 0x510, 1, OptionalLong.empty())) {
            Guests.realMode(vm, cpu, bytes(
                    0xba, 0x10, 0x05,   // mov dx, 0x510
                    0xb0, 0x07,         // mov al, 7
                    0xee,               // out dx, al   (ioeventfd: no exit)
                    0xee,               // out dx, al   (again)
                    0xe6, DONE_PORT));  // out 0xf4, al
            assertOut(cpu.run(), DONE_PORT, 1, 7);
            assertThat(doorbell.eventFd().tryRead()).hasValue(2);
        }
    }

    @Test
    void datamatchOnlyCatchesTheMatchingValue() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0);
             IoEventFd doorbell = vm.registerIoEventFd(IoEventFd.Space.PIO, 0x511, 1, OptionalLong.of(9))) {
            Guests.realMode(vm, cpu, bytes(
                    0xba, 0x11, 0x05,   // mov dx, 0x511
                    0xb0, 0x08,         // mov al, 8
                    0xee,               // out dx, al   (no match: exits)
                    0xb0, 0x09,         // mov al, 9
                    0xee,               // out dx, al   (match: eventfd)
                    0xe6, DONE_PORT));  // out 0xf4, al
            assertOut(cpu.run(), 0x511, 1, 8);
            assertThat(doorbell.eventFd().tryRead()).isEmpty();
            assertOut(cpu.run(), DONE_PORT, 1, 9);
            assertThat(doorbell.eventFd().tryRead()).hasValue(1);
        }
    }

    @Test
    void mmioWriteSignalsTheEventFdWithoutAnExit() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0);
             IoEventFd doorbell = vm.registerIoEventFd(IoEventFd.Space.MMIO, 0xd000_0000L, 4, OptionalLong.empty())) {
            Guests.protectedMode32(vm, cpu, bytes(
                    0xc7, 0x05, 0x00, 0x00, 0x00, 0xd0, 0x01, 0x00, 0x00, 0x00,  // mov dword [0xd0000000], 1
                    0xe6, DONE_PORT));                                           // out 0xf4, al
            assertOut(cpu.run(), DONE_PORT, 1, 0);
            assertThat(doorbell.eventFd().tryRead()).hasValue(1);
        }
    }

    @Test
    void closedIoEventFdNoLongerCatchesWrites() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            vm.registerIoEventFd(IoEventFd.Space.PIO, 0x512, 1, OptionalLong.empty()).close();
            Guests.realMode(vm, cpu, bytes(0xba, 0x12, 0x05, 0xb0, 0x01, 0xee)); // mov dx, 0x512; mov al, 1; out dx, al
            assertOut(cpu.run(), 0x512, 1, 1);
        }
    }

    @Test
    void irqFdAssignsAndTriggers() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); IrqFd irq = vm.registerIrqFd(5)) {
            assertThat(irq.gsi()).isEqualTo(5);
            irq.trigger();
            irq.trigger();
            vm.setIrqLine(4, true);
            vm.setIrqLine(4, false);
        }
    }

    @Test
    void boundDoorbellWakesItsWaiterWithoutAnExitAndCloseReleasesIt() throws Exception {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            org.jhyve.hv.Doorbell doorbell = vm.newDoorbell();
            AutoCloseable binding = vm.bindDoorbell(doorbell, 0xd000_1000L, 2).orElseThrow();
            var woke = new java.util.concurrent.LinkedBlockingQueue<Boolean>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    while (true) {
                        boolean rang = doorbell.await();
                        woke.add(rang);
                        if (!rang) return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Guests.protectedMode32(vm, cpu, bytes(
                    0x66, 0xc7, 0x05, 0x00, 0x10, 0x00, 0xd0, 0x03, 0x00,  // mov word [0xd0001000], 3
                    0xe6, DONE_PORT));                                     // out 0xf4, al
            assertOut(cpu.run(), DONE_PORT, 1, 0);
            assertThat(woke.poll(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            binding.close();
            doorbell.close();
            assertThat(woke.poll(5, java.util.concurrent.TimeUnit.SECONDS)).isFalse();
            waiter.join(5000);
            assertThat(waiter.isAlive()).isFalse();
        }
    }

    @Test
    void signalMsiIsAcceptedByTheInKernelApic() {
        try (KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1)); KvmVcpu cpu = vm.createVcpu(0)) {
            // Fixed delivery of vector 0x30 to APIC ID 0; the vCPU's APIC is software-disabled, so KVM may
            // report it blocked, but the ioctl itself must succeed.
            vm.signalMsi(0xfee0_0000L, 0x30);
        }
    }
}
