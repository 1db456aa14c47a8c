package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.virtio.CommonConfig.*;
import static org.jhyve.devices.virtio.VirtioPciLayout.*;
import static org.jhyve.devices.virtio.VirtioPciTransportTest.await;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.jhyve.devices.testing.GatedBackend;
import org.jhyve.devices.testing.RewiredMachine;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.hv.HypervisorException;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciFunction;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * virtio-blk behind the PCI transport when the host side misbehaves: an MSI-X message the platform refuses
 * (KVM_SIGNAL_MSI fails for a destination no vCPU has) costs that interrupt only, and the queue is served on; a
 * backend that hangs does not hang the vCPU that resets the device: the reset returns, and device_status reads
 * non-zero (the reset is not complete, virtio 1.2, 2.4.1) until the request stuck in the backend has returned.
 */
class VirtioBlockFaultTest {
    static final PciAddress SLOT = new PciAddress(0, 4, 0);
    final TestMachine machine = new TestMachine(4L << 20);
    final AtomicInteger refuseMsis = new AtomicInteger();
    final List<TestMachine.Msi> msis = new CopyOnWriteArrayList<>();
    final MemoryBlockBackend disk = new MemoryBlockBackend(64 * 1024, false);
    final VirtioPciTransport transport;
    final long bar0;
    final ExecutorService vcpu = Executors.newSingleThreadExecutor();

    VirtioBlockFaultTest() {
        RewiredMachine rewired = RewiredMachine.withMsi(machine, (address, data) -> {
            if (refuseMsis.getAndUpdate(n -> Math.max(0, n - 1)) > 0) throw new HypervisorException("ioctl KVM_SIGNAL_MSI failed: EPERM", 1);
            msis.add(new TestMachine.Msi(address, data));
        });
        transport = new VirtioPciTransport("vblk", new VirtioBlock("vblk", disk, VirtioBlockOptions.parse("d.img")), rewired, machine.irq(20), 20);
        machine.pci().add(SLOT, transport);
        bar0 = transport.barAddress(0);
        machine.pci().configWrite(0, 4, 0, PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
    }

    @AfterEach
    void close() {
        vcpu.shutdownNow();
        transport.close();
    }

    long read(long offset, int size) { return machine.mmio().read(bar0 + offset, size); }

    void write(long offset, int size, long value) { machine.mmio().write(bar0 + offset, size, value); }

    /** A register write into one device's BAR0. */
    interface Bar0 {
        void write(long offset, int size, long value);
    }

    VirtqueueDriver start() {
        return start(this::write, 4);
    }

    long readSector(VirtqueueDriver driver, long sector) {
        return readSector(driver, sector, this::write);
    }

    /** Linux's negotiation with MSI-X, for the device in {@code slot}: queue 0 on vector 1 (0xfee00000, data 0x41). */
    VirtqueueDriver start(Bar0 bar, int slot) {
        bar.write(COMMON + DEVICE_STATUS, 1, 0);
        bar.write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        bar.write(COMMON + DRIVER_FEATURE_SELECT, 4, 1);
        bar.write(COMMON + DRIVER_FEATURE, 4, 1); // VERSION_1
        bar.write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        int cap = 0;
        for (int c = machine.pci().configRead(0, slot, 0, 0x34, 1); c != 0; c = machine.pci().configRead(0, slot, 0, c + 1, 1)) {
            if (machine.pci().configRead(0, slot, 0, c, 1) == 0x11) cap = c;
        }
        machine.pci().configWrite(0, slot, 0, cap + 2, 2, 0x8000);
        bar.write(MSIX_TABLE + 16, 4, 0xfee0_0000L);
        bar.write(MSIX_TABLE + 16 + 8, 4, 0x41);
        bar.write(MSIX_TABLE + 16 + 12, 4, 0);
        bar.write(COMMON + QUEUE_SELECT, 2, 0);
        bar.write(COMMON + QUEUE_SIZE, 2, 16);
        VirtqueueDriver driver = new VirtqueueDriver(machine.memory(), 0x1000, 16, 0x10000, 4L << 20);
        bar.write(COMMON + QUEUE_MSIX_VECTOR, 2, 1);
        bar.write(COMMON + QUEUE_DESC, 8, driver.layout().descriptorTable());
        bar.write(COMMON + QUEUE_DRIVER, 8, driver.layout().availRing());
        bar.write(COMMON + QUEUE_DEVICE, 8, driver.layout().usedRing());
        bar.write(COMMON + QUEUE_ENABLE, 2, 1);
        bar.write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK | VirtioStatus.DRIVER_OK);
        return driver;
    }

    /** Queues a read of {@code sector} and notifies; returns the data buffer's address. */
    long readSector(VirtqueueDriver driver, long sector, Bar0 bar) {
        long header = driver.allocate(16);
        machine.memory().write(header, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, VirtioBlock.T_IN).putLong(8, sector).array());
        long data = driver.allocate(512);
        long status = driver.allocate(1);
        driver.addChain(List.of(Buf.in(header, 16), Buf.out(data, 512), Buf.out(status, 1)));
        bar.write(NOTIFY, 2, 0);
        return data;
    }

    @Test
    void aRefusedMsiCostsOneInterruptAndTheQueueIsServedOn() throws Exception {
        disk.data[512] = 7;
        disk.data[1024] = 8;
        VirtqueueDriver driver = start();
        refuseMsis.set(1);
        long first = readSector(driver, 1);
        await(() -> driver.usedIndex() == 1, "the first read");
        assertThat(machine.memory().readByte(first)).isEqualTo((byte) 7);
        long second = readSector(driver, 2);
        await(() -> driver.usedIndex() == 2, "the second read, after the refused interrupt");
        assertThat(machine.memory().readByte(second)).isEqualTo((byte) 8);
        await(() -> msis.size() == 1, "the second interrupt");
        assertThat(read(COMMON + DEVICE_STATUS, 1) & VirtioStatus.DEVICE_NEEDS_RESET).as("no reset needed").isZero();
    }

    @Test
    void aResetWhileTheBackendHangsReturnsAndCompletesOnlyWhenTheRequestHasReturned() throws Exception {
        GatedBackend hung = new GatedBackend();
        hung.data.data[512] = 5;
        try (VirtioPciTransport stuck = new VirtioPciTransport("vblk-hung", new VirtioBlock("vblk-hung", hung, VirtioBlockOptions.parse("h.img")),
                machine, machine.irq(21), 21)) {
            machine.pci().add(new PciAddress(0, 5, 0), stuck);
            long base = stuck.barAddress(0);
            machine.pci().configWrite(0, 5, 0, PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
            VirtqueueDriver driver = start((offset, size, value) -> machine.mmio().write(base + offset, size, value), 5);
            readSector(driver, 1, (offset, size, value) -> machine.mmio().write(base + offset, size, value));
            assertThat(hung.entered.await(5, TimeUnit.SECONDS)).as("the read is stuck in the backend").isTrue();

            // The driver resets the device from a vCPU: the write must return though the backend does not.
            vcpu.submit(() -> machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, 0)).get(5, TimeUnit.SECONDS);
            assertThat(machine.mmio().read(base + COMMON + DEVICE_STATUS, 1)).as("the reset is not complete").isNotZero();
            machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE);
            assertThat(machine.mmio().read(base + COMMON + DEVICE_STATUS, 1)).as("a driver that does not wait is ignored").isNotEqualTo(VirtioStatus.ACKNOWLEDGE);

            hung.gate.countDown();
            await(() -> machine.mmio().read(base + COMMON + DEVICE_STATUS, 1) == 0, "the reset to complete once the read returned");
            assertThat(driver.usedIndex()).as("the request is not completed after the reset").isZero();

            hung.data.data[1024] = 6;
            VirtqueueDriver again = start((offset, size, value) -> machine.mmio().write(base + offset, size, value), 5);
            long data = readSector(again, 2, (offset, size, value) -> machine.mmio().write(base + offset, size, value));
            await(() -> again.usedIndex() == 1, "a read after the reset");
            assertThat(machine.memory().readByte(data)).isEqualTo((byte) 6);
        }
    }
}
