package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciFunction;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The virtio PCI transport as a driver meets it: capabilities in config space, the common configuration in
 * BAR0, feature negotiation, queue setup, notifications served by the device's worker, MSI-X and INTx, and
 * DEVICE_NEEDS_RESET when the driver breaks a queue.
 */
class VirtioPciTransportTest {
    static final PciAddress SLOT = new PciAddress(0, 4, 0);
    final TestMachine machine = new TestMachine(4L << 20);
    final MemoryBlockBackend disk = new MemoryBlockBackend(64 * 1024, false);
    final VirtioPciTransport transport = new VirtioPciTransport("vblk", new VirtioBlock("vblk", disk, VirtioBlockOptions.parse("d.img")),
            machine, machine.irq(20), 20);
    long bar0;

    VirtioPciTransportTest() {
        machine.pci().add(SLOT, transport);
        bar0 = transport.barAddress(0);
        cfgWrite(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
    }

    @AfterEach
    void close() {
        transport.close();
    }

    int cfgRead(int offset, int size) { return machine.pci().configRead(0, 4, 0, offset, size); }

    void cfgWrite(int offset, int size, int value) { machine.pci().configWrite(0, 4, 0, offset, size, value); }

    long read(long offset, int size) { return machine.mmio().read(bar0 + offset, size); }

    void write(long offset, int size, long value) { machine.mmio().write(bar0 + offset, size, value); }

    @Test
    void headerAndCapabilitiesAreWhatTheSpecSays() {
        assertThat(cfgRead(0, 2)).isEqualTo(0x1af4);
        assertThat(cfgRead(2, 2)).isEqualTo(0x1042);
        assertThat(cfgRead(PciFunction.STATUS, 2) & PciFunction.STATUS_CAPABILITIES).isNotZero();
        // Walk the capability list: vendor-specific ones name their structure type, BAR, offset and length.
        StringBuilder seen = new StringBuilder();
        for (int cap = cfgRead(0x34, 1); cap != 0; cap = cfgRead(cap + 1, 1)) {
            int id = cfgRead(cap, 1);
            if (id == 0x09) {
                seen.append(String.format("vendor type=%d bar=%d off=0x%x len=0x%x; ", cfgRead(cap + 3, 1), cfgRead(cap + 4, 1), cfgRead(cap + 8, 4), cfgRead(cap + 12, 4)));
                if (cfgRead(cap + 3, 1) == 2) seen.append("mult=").append(cfgRead(cap + 16, 4)).append("; ");
            } else {
                seen.append(String.format("id=0x%x ctl=0x%x table=0x%x pba=0x%x; ", id, cfgRead(cap + 2, 2), cfgRead(cap + 4, 4), cfgRead(cap + 8, 4)));
            }
        }
        assertThat(seen.toString()).isEqualTo("vendor type=1 bar=0 off=0x0 len=0x38; vendor type=2 bar=0 off=0x3000 len=0x4; mult=4; "
                + "vendor type=3 bar=0 off=0x1000 len=0x1; vendor type=4 bar=0 off=0x2000 len=0x3c; vendor type=5 bar=0 off=0x0 len=0x0; "
                + "id=0x11 ctl=0x1 table=0x4000 pba=0x5000; ");
    }

    /** Negotiates like Linux: reset, ACK, DRIVER, features, FEATURES_OK, queue 0, DRIVER_OK. */
    VirtqueueDriver start(long features, boolean msix) {
        write(0x14, 1, 0);
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(0x00, 4, 1);
        assertThat(read(0x04, 4) & 1).as("VERSION_1 offered").isEqualTo(1);
        write(0x08, 4, 0);
        write(0x0c, 4, features & 0xffffffffL);
        write(0x08, 4, 1);
        write(0x0c, 4, features >>> 32);
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        assertThat(read(0x14, 1) & VirtioStatus.FEATURES_OK).isNotZero();
        if (msix) {
            int cap = msixCap();
            cfgWrite(cap + 2, 2, 0x8000);
            write(VirtioPciTransport.MSIX_TABLE + 16, 4, 0xfee0_0000L); // vector 1: address
            write(VirtioPciTransport.MSIX_TABLE + 16 + 8, 4, 0x41);     // data
            write(VirtioPciTransport.MSIX_TABLE + 16 + 12, 4, 0);       // unmask
        }
        write(0x16, 2, 0);
        assertThat(read(0x18, 2)).isEqualTo(256);
        write(0x18, 2, 16);
        VirtqueueDriver driver = new VirtqueueDriver(machine.memory(), 0x1000, 16, 0x10000, 4L << 20);
        write(0x1a, 2, msix ? 1 : VirtioPciTransport.NO_VECTOR);
        write(0x20, 8, driver.layout().descriptorTable());
        write(0x28, 4, driver.layout().availRing());
        write(0x2c, 4, 0);
        write(0x30, 8, driver.layout().usedRing());
        write(0x1c, 2, 1);
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK | VirtioStatus.DRIVER_OK);
        return driver;
    }

    int msixCap() {
        for (int cap = cfgRead(0x34, 1); cap != 0; cap = cfgRead(cap + 1, 1)) if (cfgRead(cap, 1) == 0x11) return cap;
        throw new AssertionError("no MSI-X capability");
    }

    /** Queues a 512-byte read of sector {@code sector} and rings the doorbell through the notify region. */
    long readSector(VirtqueueDriver driver, long sector) {
        long header = driver.allocate(16);
        machine.memory().write(header, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0).putLong(8, sector).array());
        long data = driver.allocate(512);
        long status = driver.allocate(1);
        machine.memory().writeByte(status, (byte) 0x7f);
        driver.addChain(List.of(Buf.in(header, 16), Buf.out(data, 512), Buf.out(status, 1)));
        write(VirtioPciTransport.NOTIFY, 2, 0);
        return data;
    }

    static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(1);
        }
    }

    @Test
    void aNotifiedRequestIsServedOffTheVcpuThreadAndSignalsItsMsixVector() throws Exception {
        disk.data[512] = 42;
        VirtqueueDriver driver = start(1L << VirtioStatus.F_VERSION_1 | 1L << VirtioStatus.F_EVENT_IDX, true);
        long data = readSector(driver, 1);
        await(() -> driver.usedIndex() == 1, "the request to complete");
        assertThat(driver.takeUsed()).containsExactly(new VirtqueueDriver.Used(0, 513));
        assertThat(machine.memory().readByte(data)).isEqualTo((byte) 42);
        await(() -> !machine.msis().isEmpty(), "the MSI");
        assertThat(machine.msis()).containsExactly(new TestMachine.Msi(0xfee0_0000L, 0x41));
        assertThat(machine.irqLevel(20)).as("no INTx while MSI-X is on").isFalse();
    }

    @Test
    void withoutMsixTheIsrAndIntxAnnounceCompletionsAndReadingIsrLowersTheLine() throws Exception {
        VirtqueueDriver driver = start(1L << VirtioStatus.F_VERSION_1, false);
        readSector(driver, 0);
        await(() -> machine.irqLevel(20), "INTx");
        assertThat(read(VirtioPciTransport.ISR, 1)).isEqualTo(1);
        assertThat(machine.irqLevel(20)).isFalse();
        assertThat(read(VirtioPciTransport.ISR, 1)).isZero();
    }

    @Test
    void featuresTheDeviceDidNotOfferOrALegacyDriverAreRefused() {
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(0x08, 4, 0);
        write(0x0c, 4, 1 << 7); // GEOMETRY is not offered
        write(0x08, 4, 1);
        write(0x0c, 4, 1);
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        assertThat(read(0x14, 1) & VirtioStatus.FEATURES_OK).isZero();
        write(0x14, 1, 0);
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK); // no VERSION_1
        assertThat(read(0x14, 1) & VirtioStatus.FEATURES_OK).isZero();
    }

    @Test
    void aQueueOutsideGuestRamMakesTheDeviceNeedAReset() {
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(0x08, 4, 1);
        write(0x0c, 4, 1);
        write(0x14, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        write(0x16, 2, 0);
        write(0x20, 8, 0xffff_0000L);
        write(0x28, 8, 0x2000);
        write(0x30, 8, 0x3000);
        write(0x1c, 2, 1);
        write(0x14, 1, 0x0f);
        assertThat(read(0x14, 1) & VirtioStatus.DEVICE_NEEDS_RESET).isNotZero();
        write(0x14, 1, 0);
        assertThat(read(0x14, 1)).as("reset clears it").isZero();
    }

    @Test
    void aBrokenChainMakesTheDeviceNeedAResetAndAResetRecoversIt() throws Exception {
        VirtqueueDriver driver = start(1L << VirtioStatus.F_VERSION_1, false);
        driver.writeDescriptor(driver.layout().descriptorTable(), 0, 0x3f_0000_0000L, 512, 0, 0);
        driver.publish(0);
        write(VirtioPciTransport.NOTIFY, 2, 0);
        await(() -> (read(0x14, 1) & VirtioStatus.DEVICE_NEEDS_RESET) != 0, "DEVICE_NEEDS_RESET");
        assertThat(read(VirtioPciTransport.ISR, 1) & 2).as("configuration change announced").isEqualTo(2);
        VirtqueueDriver again = start(1L << VirtioStatus.F_VERSION_1, false);
        disk.data[0] = 9;
        long data = readSector(again, 0);
        await(() -> again.usedIndex() == 1, "the request after the reset");
        assertThat(machine.memory().readByte(data)).isEqualTo((byte) 9);
    }

    @Test
    void queueVectorsBeyondTheTableReadBackAsNoVector() {
        write(0x16, 2, 0);
        write(0x1a, 2, 77);
        assertThat(read(0x1a, 2)).isEqualTo(VirtioPciTransport.NO_VECTOR);
        write(0x16, 2, 5); // no such queue
        assertThat(read(0x18, 2)).isZero();
    }

    @Test
    void theDeviceConfigurationIsInBar0AndThroughThePciConfigurationWindow() {
        assertThat(read(VirtioPciTransport.DEVICE_CONFIG, 8)).isEqualTo(128); // 64 KiB in sectors
        int cap = 0;
        for (int c = cfgRead(0x34, 1); c != 0; c = cfgRead(c + 1, 1)) if (cfgRead(c, 1) == 0x09 && cfgRead(c + 3, 1) == 5) cap = c;
        cfgWrite(cap + 4, 1, 0);
        cfgWrite(cap + 8, 4, VirtioPciTransport.DEVICE_CONFIG);
        cfgWrite(cap + 12, 4, 4);
        assertThat(cfgRead(cap + 16, 4)).isEqualTo(128);
    }
}
