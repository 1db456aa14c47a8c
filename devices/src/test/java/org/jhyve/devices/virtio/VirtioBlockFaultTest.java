package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.virtio.VirtioPciTransportTest.await;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.devices.block.MemoryBlockBackend;
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
 * (KVM_SIGNAL_MSI fails for a destination no vCPU has) costs that interrupt only, and the queue is served on.
 */
class VirtioBlockFaultTest {
    static final PciAddress SLOT = new PciAddress(0, 4, 0);
    final TestMachine machine = new TestMachine(4L << 20);
    final AtomicInteger refuseMsis = new AtomicInteger();
    final List<TestMachine.Msi> msis = new CopyOnWriteArrayList<>();
    final MemoryBlockBackend disk = new MemoryBlockBackend(64 * 1024, false);
    final VirtioPciTransport transport;
    final long bar0;

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
        transport.close();
    }

    long read(long offset, int size) { return machine.mmio().read(bar0 + offset, size); }

    void write(long offset, int size, long value) { machine.mmio().write(bar0 + offset, size, value); }

    /** Linux's negotiation with MSI-X: queue 0 on vector 1 (0xfee00000, data 0x41). */
    VirtqueueDriver start() {
        write(0x14, 1, 0);
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(0x08, 4, 1);
        write(0x0c, 4, 1); // VERSION_1
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        int cap = 0;
        for (int c = machine.pci().configRead(0, 4, 0, 0x34, 1); c != 0; c = machine.pci().configRead(0, 4, 0, c + 1, 1)) {
            if (machine.pci().configRead(0, 4, 0, c, 1) == 0x11) cap = c;
        }
        machine.pci().configWrite(0, 4, 0, cap + 2, 2, 0x8000);
        write(VirtioPciTransport.MSIX_TABLE + 16, 4, 0xfee0_0000L);
        write(VirtioPciTransport.MSIX_TABLE + 16 + 8, 4, 0x41);
        write(VirtioPciTransport.MSIX_TABLE + 16 + 12, 4, 0);
        write(0x16, 2, 0);
        write(0x18, 2, 16);
        VirtqueueDriver driver = new VirtqueueDriver(machine.memory(), 0x1000, 16, 0x10000, 4L << 20);
        write(0x1a, 2, 1);
        write(0x20, 8, driver.layout().descriptorTable());
        write(0x28, 8, driver.layout().availRing());
        write(0x30, 8, driver.layout().usedRing());
        write(0x1c, 2, 1);
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK | VirtioStatus.DRIVER_OK);
        return driver;
    }

    /** Queues a read of {@code sector} and notifies; returns the data buffer's address. */
    long readSector(VirtqueueDriver driver, long sector) {
        long header = driver.allocate(16);
        machine.memory().write(header, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, VirtioBlock.T_IN).putLong(8, sector).array());
        long data = driver.allocate(512);
        long status = driver.allocate(1);
        driver.addChain(List.of(Buf.in(header, 16), Buf.out(data, 512), Buf.out(status, 1)));
        write(VirtioPciTransport.NOTIFY, 2, 0);
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
        assertThat(read(0x14, 1) & VirtioStatus.DEVICE_NEEDS_RESET).as("no reset needed").isZero();
    }
}
