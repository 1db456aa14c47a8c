package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.virtio.CommonConfig.*;
import static org.jhyve.devices.virtio.VirtioPciLayout.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.devices.log.RecordingLogger;
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
                if (cfgRead(cap + 3, 1) == 2) seen.append("mult=").append(cfgRead(cap + PCI_CFG_DATA, 4)).append("; ");
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
        write(COMMON + DEVICE_STATUS, 1, 0);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(COMMON + DEVICE_FEATURE_SELECT, 4, 1);
        assertThat(read(COMMON + DEVICE_FEATURE, 4) & 1).as("VERSION_1 offered").isEqualTo(1);
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 0);
        write(COMMON + DRIVER_FEATURE, 4, features & 0xffffffffL);
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 1);
        write(COMMON + DRIVER_FEATURE, 4, features >>> 32);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        assertThat(read(COMMON + DEVICE_STATUS, 1) & VirtioStatus.FEATURES_OK).isNotZero();
        if (msix) {
            int cap = msixCap();
            cfgWrite(cap + 2, 2, 0x8000);
            write(MSIX_TABLE + 16, 4, 0xfee0_0000L); // vector 1: address
            write(MSIX_TABLE + 16 + 8, 4, 0x41);     // data
            write(MSIX_TABLE + 16 + 12, 4, 0);       // unmask
        }
        write(COMMON + QUEUE_SELECT, 2, 0);
        assertThat(read(COMMON + QUEUE_SIZE, 2)).isEqualTo(256);
        write(COMMON + QUEUE_SIZE, 2, 16);
        VirtqueueDriver driver = new VirtqueueDriver(machine.memory(), 0x1000, 16, 0x10000, 4L << 20);
        write(COMMON + QUEUE_MSIX_VECTOR, 2, msix ? 1 : VirtioPciTransport.NO_VECTOR);
        write(COMMON + QUEUE_DESC, 8, driver.layout().descriptorTable());
        write(COMMON + QUEUE_DRIVER, 4, driver.layout().availRing());
        write(COMMON + QUEUE_DRIVER + 4, 4, 0);
        write(COMMON + QUEUE_DEVICE, 8, driver.layout().usedRing());
        write(COMMON + QUEUE_ENABLE, 2, 1);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK | VirtioStatus.DRIVER_OK);
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
        write(NOTIFY, 2, 0);
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
        assertThat(read(ISR, 1)).isEqualTo(1);
        assertThat(machine.irqLevel(20)).isFalse();
        assertThat(read(ISR, 1)).isZero();
    }

    @Test
    void featuresTheDeviceDidNotOfferOrALegacyDriverAreRefused() {
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 0);
        write(COMMON + DRIVER_FEATURE, 4, 1 << 7); // GEOMETRY is not offered
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 1);
        write(COMMON + DRIVER_FEATURE, 4, 1);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        assertThat(read(COMMON + DEVICE_STATUS, 1) & VirtioStatus.FEATURES_OK).isZero();
        write(COMMON + DEVICE_STATUS, 1, 0);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK); // no VERSION_1
        assertThat(read(COMMON + DEVICE_STATUS, 1) & VirtioStatus.FEATURES_OK).isZero();
    }

    @Test
    void aQueueOutsideGuestRamMakesTheDeviceNeedAReset() {
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 1);
        write(COMMON + DRIVER_FEATURE, 4, 1);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        write(COMMON + QUEUE_SELECT, 2, 0);
        write(COMMON + QUEUE_DESC, 8, 0xffff_0000L);
        write(COMMON + QUEUE_DRIVER, 8, 0x2000);
        write(COMMON + QUEUE_DEVICE, 8, 0x3000);
        write(COMMON + QUEUE_ENABLE, 2, 1);
        write(COMMON + DEVICE_STATUS, 1, 0x0f);
        assertThat(read(COMMON + DEVICE_STATUS, 1) & VirtioStatus.DEVICE_NEEDS_RESET).isNotZero();
        write(COMMON + DEVICE_STATUS, 1, 0);
        assertThat(read(COMMON + DEVICE_STATUS, 1)).as("reset clears it").isZero();
    }

    @Test
    void aBrokenChainMakesTheDeviceNeedAResetAndAResetRecoversIt() throws Exception {
        VirtqueueDriver driver = start(1L << VirtioStatus.F_VERSION_1, false);
        driver.writeDescriptor(driver.layout().descriptorTable(), 0, 0x3f_0000_0000L, 512, 0, 0);
        driver.publish(0);
        write(NOTIFY, 2, 0);
        await(() -> (read(COMMON + DEVICE_STATUS, 1) & VirtioStatus.DEVICE_NEEDS_RESET) != 0, "DEVICE_NEEDS_RESET");
        assertThat(read(ISR, 1) & 2).as("configuration change announced").isEqualTo(2);
        VirtqueueDriver again = start(1L << VirtioStatus.F_VERSION_1, false);
        disk.data[0] = 9;
        long data = readSector(again, 0);
        await(() -> again.usedIndex() == 1, "the request after the reset");
        assertThat(machine.memory().readByte(data)).isEqualTo((byte) 9);
    }

    @Test
    void queueVectorsBeyondTheTableReadBackAsNoVector() {
        write(COMMON + QUEUE_SELECT, 2, 0);
        write(COMMON + QUEUE_MSIX_VECTOR, 2, 77);
        assertThat(read(COMMON + QUEUE_MSIX_VECTOR, 2)).isEqualTo(VirtioPciTransport.NO_VECTOR);
        write(COMMON + QUEUE_SELECT, 2, 5); // no such queue
        assertThat(read(COMMON + QUEUE_SIZE, 2)).isZero();
    }

    @Test
    void theDeviceConfigurationIsInBar0AndThroughThePciConfigurationWindow() {
        assertThat(read(DEVICE_CONFIG, 8)).isEqualTo(128); // 64 KiB in sectors
        int cap = 0;
        for (int c = cfgRead(0x34, 1); c != 0; c = cfgRead(c + 1, 1)) if (cfgRead(c, 1) == CAP_VENDOR && cfgRead(c + CFG_TYPE, 1) == CFG_PCI) cap = c;
        cfgWrite(cap + CAP_BAR, 1, 0);
        cfgWrite(cap + CAP_OFFSET, 4, DEVICE_CONFIG);
        cfgWrite(cap + CAP_LENGTH, 4, 4);
        assertThat(cfgRead(cap + PCI_CFG_DATA, 4)).isEqualTo(128);
    }

    // ---- a hostile driver's register writes ----

    @Test
    void featureSelectsAboveOneAreNoWordAtAllReadOrWritten() {
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(COMMON + DEVICE_FEATURE_SELECT, 4, 1);
        assertThat(read(COMMON + DEVICE_FEATURE, 4)).as("word 1: VERSION_1").isEqualTo(1);
        for (long select : new long[] {0xffff_ffffL, 0xffff_fffeL, 0x8000_0000L, 0x7fff_ffffL, 2}) {
            write(COMMON + DEVICE_FEATURE_SELECT, 4, select);
            assertThat(read(COMMON + DEVICE_FEATURE_SELECT, 4)).isEqualTo(select);
            assertThat(read(COMMON + DEVICE_FEATURE, 4)).as("device features, select 0x%x", select).isZero();
            write(COMMON + DRIVER_FEATURE_SELECT, 4, select);
            write(COMMON + DRIVER_FEATURE, 4, 0xffff_ffffL); // would set every feature bit of some word if the select aliased one
            assertThat(read(COMMON + DRIVER_FEATURE, 4)).as("driver features, select 0x%x", select).isZero();
        }
        for (int word = 0; word < 2; word++) {
            write(COMMON + DRIVER_FEATURE_SELECT, 4, word);
            assertThat(read(COMMON + DRIVER_FEATURE, 4)).as("driver features word %d untouched", word).isZero();
        }
        // With nothing accepted, FEATURES_OK fails for want of VERSION_1 rather than for features never offered.
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 1);
        write(COMMON + DRIVER_FEATURE, 4, 1);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        assertThat(read(COMMON + DEVICE_STATUS, 1) & VirtioStatus.FEATURES_OK).isNotZero();
    }

    @Test
    void aQueueSelectBeyondTheQueuesReadsAsNoQueueAndWritesReachNothing() {
        for (int select : new int[] {1, 2, 0x7fff, 0xffff}) {
            write(COMMON + QUEUE_SELECT, 2, select);
            assertThat(read(COMMON + QUEUE_SELECT, 2)).isEqualTo(select);
            write(COMMON + QUEUE_SIZE, 2, 16);
            write(COMMON + QUEUE_MSIX_VECTOR, 2, 0);
            write(COMMON + QUEUE_ENABLE, 2, 1);
            write(COMMON + QUEUE_DESC, 8, 0x1000);
            write(COMMON + QUEUE_DRIVER, 8, 0x2000);
            write(COMMON + QUEUE_DEVICE, 8, 0x3000);
            assertThat(read(COMMON + QUEUE_SIZE, 2)).as("queue_size of queue %d: none", select).isZero();
            assertThat(read(COMMON + QUEUE_MSIX_VECTOR, 2)).isEqualTo(VirtioPciTransport.NO_VECTOR);
            assertThat(read(COMMON + QUEUE_ENABLE, 2)).isZero();
            assertThat(read(COMMON + QUEUE_NOTIFY_OFF, 2)).isZero();
            assertThat(read(COMMON + QUEUE_DESC, 8)).isZero();
            assertThat(read(COMMON + QUEUE_DRIVER, 4)).isZero();
            assertThat(read(COMMON + QUEUE_DEVICE, 4)).isZero();
        }
        write(COMMON + QUEUE_SELECT, 2, 0);
        assertThat(read(COMMON + QUEUE_SIZE, 2)).as("queue 0 kept its maximum").isEqualTo(256);
        assertThat(read(COMMON + QUEUE_ENABLE, 2)).isZero();
    }

    /** ACK, DRIVER, VERSION_1, FEATURES_OK, queue 0 as given, DRIVER_OK: returns the status read back. */
    int startWithQueue(int size, long desc, long avail, long used) {
        write(COMMON + DEVICE_STATUS, 1, 0);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(COMMON + DRIVER_FEATURE_SELECT, 4, 1);
        write(COMMON + DRIVER_FEATURE, 4, 1);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        write(COMMON + QUEUE_SELECT, 2, 0);
        write(COMMON + QUEUE_SIZE, 2, size);
        write(COMMON + QUEUE_DESC, 8, desc);
        write(COMMON + QUEUE_DRIVER, 8, avail);
        write(COMMON + QUEUE_DEVICE, 8, used);
        write(COMMON + QUEUE_ENABLE, 2, 1);
        write(COMMON + DEVICE_STATUS, 1, 0x0f);
        return (int) read(COMMON + DEVICE_STATUS, 1);
    }

    @Test
    void queueSizesAndAddressesTheDriverMayNotGiveMakeTheDeviceNeedAResetAtDriverOk() {
        record Case(String what, int size, long desc, long avail, long used) {}
        for (Case k : List.of(
                new Case("size 0", 0, 0x1000, 0x2000, 0x3000),
                new Case("size 3", 3, 0x1000, 0x2000, 0x3000),
                new Case("size 100", 100, 0x1000, 0x2000, 0x3000),
                new Case("size 512, above the maximum 256", 512, 0x1000, 0x2000, 0x3000),
                new Case("size 0xffff", 0xffff, 0x1000, 0x2000, 0x3000),
                new Case("misaligned descriptor table", 16, 0x1008, 0x2000, 0x3000),
                new Case("misaligned available ring", 16, 0x1000, 0x2001, 0x3000),
                new Case("misaligned used ring", 16, 0x1000, 0x2000, 0x3002),
                new Case("descriptor table past RAM", 16, (4L << 20) - 16, 0x2000, 0x3000),
                new Case("available ring at the top of the address space", 16, 0x1000, 0xffff_ffff_ffff_fff0L, 0x3000),
                new Case("used ring in the MMIO hole", 16, 0x1000, 0x2000, 0xfee0_0000L))) {
            int status = startWithQueue(k.size(), k.desc(), k.avail(), k.used());
            assertThat(status & VirtioStatus.DEVICE_NEEDS_RESET).as(k.what()).isNotZero();
            assertThat(transport.errorCount()).as(k.what() + " is reported").isPositive();
        }
        assertThat(startWithQueue(16, 0x1000, 0x2000, 0x3000) & VirtioStatus.DEVICE_NEEDS_RESET).as("a good queue after a reset").isZero();
    }

    @Test
    void aQueueAddressIsTwoHalvesAndAWideAccessAtItsHighHalfTouchesOnlyThat() {
        write(COMMON + QUEUE_SELECT, 2, 0);
        write(COMMON + QUEUE_DESC, 8, 0x1_2345_6780L);
        assertThat(read(COMMON + QUEUE_DESC, 8)).isEqualTo(0x1_2345_6780L);
        assertThat(read(COMMON + QUEUE_DESC, 4)).isEqualTo(0x2345_6780L);
        assertThat(read(COMMON + QUEUE_DESC + 4, 4)).isEqualTo(1);
        assertThat(read(COMMON + QUEUE_DESC + 4, 8)).as("8 bytes at the high half").isEqualTo(1);
        write(COMMON + QUEUE_DESC + 4, 8, 0xffff_ffff_0000_0002L);
        assertThat(read(COMMON + QUEUE_DESC, 8)).as("only the high half written").isEqualTo(0x2_2345_6780L);
        write(COMMON + QUEUE_DRIVER, 4, 0x2000);
        write(COMMON + QUEUE_DRIVER + 4, 4, 0);
        assertThat(read(COMMON + QUEUE_DRIVER, 8)).isEqualTo(0x2000);
    }

    @Test
    void msixVectorsBeyondTheTableReadBackAsNoVectorForTheConfigurationAndTheQueues() {
        // Two vectors: configuration and queue 0.
        for (int vector : new int[] {0, 1}) {
            write(COMMON + CONFIG_MSIX_VECTOR, 2, vector);
            assertThat(read(COMMON + CONFIG_MSIX_VECTOR, 2)).isEqualTo(vector);
            write(COMMON + QUEUE_SELECT, 2, 0);
            write(COMMON + QUEUE_MSIX_VECTOR, 2, vector);
            assertThat(read(COMMON + QUEUE_MSIX_VECTOR, 2)).isEqualTo(vector);
        }
        for (int vector : new int[] {2, 0x7ff, 0x800, 0xfffe, 0xffff}) {
            write(COMMON + CONFIG_MSIX_VECTOR, 2, vector);
            assertThat(read(COMMON + CONFIG_MSIX_VECTOR, 2)).as("config_msix_vector %d", vector).isEqualTo(VirtioPciTransport.NO_VECTOR);
            write(COMMON + QUEUE_MSIX_VECTOR, 2, vector);
            assertThat(read(COMMON + QUEUE_MSIX_VECTOR, 2)).as("queue_msix_vector %d", vector).isEqualTo(VirtioPciTransport.NO_VECTOR);
        }
    }

    @Test
    void theDeviceConfigurationIsReadAndWrittenOnlyWithinItsSizeAtAnyOffsetAndWidth() {
        int size = 60; // virtio-blk's configuration
        for (int width : new int[] {1, 2, 4, 8}) {
            for (int at = size - 8; at < size + 8; at++) {
                long v = read(DEVICE_CONFIG + at, width);
                write(DEVICE_CONFIG + at, width, -1L);
                if (at + width > size) assertThat(v).as("read of %d bytes at %d", width, at).isZero();
            }
            assertThat(read(NOTIFY - width, width)).isZero();
        }
        assertThat(read(DEVICE_CONFIG, 8)).as("capacity unchanged").isEqualTo(128);
    }

    @Test
    void theIsrIsOneByteTheRestOfItsPageReadsZeroAndWritesAreIgnored() throws Exception {
        VirtqueueDriver driver = start(1L << VirtioStatus.F_VERSION_1, false);
        readSector(driver, 0);
        await(() -> machine.irqLevel(20), "INTx");
        write(ISR, 1, 0);
        write(ISR, 4, 0);
        assertThat(machine.irqLevel(20)).as("a write does not acknowledge").isTrue();
        for (int at = 1; at < 8; at++) assertThat(read(ISR + at, 1)).isZero();
        assertThat(read(ISR, 4)).as("read with any width").isEqualTo(1);
        assertThat(machine.irqLevel(20)).isFalse();
    }

    @Test
    void notificationsForQueuesThatDoNotExistOrAtOddOffsetsAndWidthsAreHarmless() throws Exception {
        VirtqueueDriver driver = start(1L << VirtioStatus.F_VERSION_1, false);
        for (long at = NOTIFY; at < MSIX_TABLE; at += 0x7f) {
            for (int width : new int[] {1, 2, 4, 8}) write(at, width, 0xffff_ffff_ffffL);
        }
        assertThat(read(COMMON + DEVICE_STATUS, 1) & VirtioStatus.DEVICE_NEEDS_RESET).isZero();
        disk.data[0] = 5;
        long data = readSector(driver, 0);
        await(() -> driver.usedIndex() == 1, "a request after the noise");
        assertThat(machine.memory().readByte(data)).isEqualTo((byte) 5);
    }

    @Test
    void theDriverCannotClearStatusBitsOrSetDeviceNeedsResetButZeroResets() {
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE);
        assertThat(read(COMMON + DEVICE_STATUS, 1)).as("DRIVER stays").isEqualTo(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.DEVICE_NEEDS_RESET);
        assertThat(read(COMMON + DEVICE_STATUS, 1) & VirtioStatus.DEVICE_NEEDS_RESET).as("the device's bit").isZero();
        VirtqueueDriver driver = start(1L << VirtioStatus.F_VERSION_1, false);
        int running = (int) read(COMMON + DEVICE_STATUS, 1);
        assertThat(running & VirtioStatus.DRIVER_OK).isNotZero();
        write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE);
        assertThat(read(COMMON + DEVICE_STATUS, 1)).isEqualTo(running);
        write(COMMON + DEVICE_STATUS, 1, 0);
        assertThat(read(COMMON + DEVICE_STATUS, 1)).isZero();
        assertThat(driver.usedIndex()).isZero();
    }

    @Test
    void aConfigurationWindowWhoseOffsetOverflowsReadsZeroAndWritesNothing() {
        int cap = 0;
        for (int c = cfgRead(0x34, 1); c != 0; c = cfgRead(c + 1, 1)) if (cfgRead(c, 1) == CAP_VENDOR && cfgRead(c + CFG_TYPE, 1) == CFG_PCI) cap = c;
        cfgWrite(cap + CAP_BAR, 1, 0);
        cfgWrite(cap + CAP_LENGTH, 4, 4);
        for (int offset : new int[] {0x7fff_fffc, BAR_SIZE, BAR_SIZE - 2}) {
            cfgWrite(cap + CAP_OFFSET, 4, offset);
            assertThat(cfgRead(cap + PCI_CFG_DATA, 4)).as("window at 0x%x", offset).isZero();
            cfgWrite(cap + PCI_CFG_DATA, 4, -1);
        }
        cfgWrite(cap + CAP_OFFSET, 4, COMMON + DEVICE_STATUS);
        cfgWrite(cap + CAP_LENGTH, 4, 1);
        assertThat(cfgRead(cap + PCI_CFG_DATA, 4)).as("status through the window").isZero();
    }

    // ---- what the host log gets ----

    @Test
    void aGuestResettingAHundredThousandTimesWithBadFeaturesAndABrokenQueueWritesABoundedLog() {
        RecordingLogger logger = new RecordingLogger();
        VirtioPciTransport noisy = new VirtioPciTransport("vblk1", new VirtioBlock("vblk1", new MemoryBlockBackend(4096, false), VirtioBlockOptions.parse("e.img")),
                machine, asserted -> { }, 22, new GuestErrorLog(logger, "vblk1")); // INTx not recorded: 200,000 edges
        try {
            machine.pci().add(new PciAddress(0, 6, 0), noisy);
            machine.pci().configWrite(0, 6, 0, PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY);
            long base = noisy.barAddress(0);
            int cycles = 100_000;
            for (int i = 0; i < cycles; i++) {
                machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, 0);
                machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
                machine.mmio().write(base + COMMON + DRIVER_FEATURE_SELECT, 4, 0);
                machine.mmio().write(base + COMMON + DRIVER_FEATURE, 4, 1 << 7); // GEOMETRY, not offered
                machine.mmio().write(base + COMMON + DRIVER_FEATURE_SELECT, 4, 1);
                machine.mmio().write(base + COMMON + DRIVER_FEATURE, 4, 1);
                machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, 0x0b); // FEATURES_OK refused: "not offered"
                machine.mmio().write(base + COMMON + DRIVER_FEATURE_SELECT, 4, 0);
                machine.mmio().write(base + COMMON + DRIVER_FEATURE, 4, 0);
                machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, 0x0b);
                machine.mmio().write(base + COMMON + QUEUE_DESC, 8, 0x3f_0000_0000L); // queue 0 outside RAM: "needs reset"
                machine.mmio().write(base + COMMON + QUEUE_ENABLE, 2, 1);
                machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, 0x0f);
            }
            assertThat(machine.mmio().read(base + COMMON + DEVICE_STATUS, 1) & VirtioStatus.DEVICE_NEEDS_RESET).isNotZero();
            assertThat(noisy.errorCount()).as("every mistake counted").isEqualTo(2L * cycles);
            long loud = logger.lines().stream().filter(l -> l.level().toInt() >= org.slf4j.event.Level.WARN.toInt()).count();
            // The first ten, then one a minute saying how many were held back: this test takes less than a minute.
            assertThat(loud).as("warn and error lines").isBetween(2L, 11L);
        } finally {
            noisy.close();
        }
    }

    @Test
    void anMsiThatCannotBeDeliveredIsCountedAndTheDeviceKeepsServing() throws Exception {
        RecordingLogger logger = new RecordingLogger();
        java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        MachineView refusing = MachineView.withMsi(machine, (address, data) -> {
            attempts.incrementAndGet();
            throw new IllegalStateException("KVM_SIGNAL_MSI: operation not permitted (errno 1)");
        });
        MemoryBlockBackend small = new MemoryBlockBackend(64 * 1024, false);
        VirtioPciTransport t = new VirtioPciTransport("vblk2", new VirtioBlock("vblk2", small, VirtioBlockOptions.parse("f.img")),
                refusing, machine.irq(23), 23, new GuestErrorLog(logger, "vblk2"));
        try {
            machine.pci().add(new PciAddress(0, 7, 0), t);
            machine.pci().configWrite(0, 7, 0, PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
            long base = t.barAddress(0);
            java.util.function.BiConsumer<Long, Long> w = (off, v) -> machine.mmio().write(base + off, 4, v);
            machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
            w.accept((long) (COMMON + DRIVER_FEATURE_SELECT), 1L);
            w.accept((long) (COMMON + DRIVER_FEATURE), 1L);
            machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, 0x0b);
            int cap = 0;
            for (int c = machine.pci().configRead(0, 7, 0, 0x34, 1); c != 0; c = machine.pci().configRead(0, 7, 0, c + 1, 1)) {
                if (machine.pci().configRead(0, 7, 0, c, 1) == 0x11) cap = c;
            }
            machine.pci().configWrite(0, 7, 0, cap + 2, 2, 0x8000);
            w.accept(MSIX_TABLE + 16L, 0xfee0_0000L);
            w.accept(MSIX_TABLE + 16L + 8, 0x41L);
            VirtqueueDriver driver = new VirtqueueDriver(machine.memory(), 0x8000, 16, 0x20000, 4L << 20);
            machine.mmio().write(base + COMMON + QUEUE_SELECT, 2, 0);
            machine.mmio().write(base + COMMON + QUEUE_SIZE, 2, 16);
            machine.mmio().write(base + COMMON + QUEUE_MSIX_VECTOR, 2, 1);
            machine.mmio().write(base + COMMON + QUEUE_DESC, 8, driver.layout().descriptorTable());
            machine.mmio().write(base + COMMON + QUEUE_DRIVER, 8, driver.layout().availRing());
            machine.mmio().write(base + COMMON + QUEUE_DEVICE, 8, driver.layout().usedRing());
            machine.mmio().write(base + COMMON + QUEUE_ENABLE, 2, 1);
            machine.mmio().write(base + COMMON + DEVICE_STATUS, 1, 0x0f);
            w.accept(MSIX_TABLE + 16L + 12, 0L); // unmask vector 1: nothing pending yet
            for (int i = 1; i <= 20; i++) {
                small.data[0] = (byte) i;
                long header = driver.allocate(16);
                long data = driver.allocate(512);
                long status = driver.allocate(1);
                machine.memory().write(header, new byte[16]);
                driver.addChain(List.of(Buf.in(header, 16), Buf.out(data, 512), Buf.out(status, 1)));
                machine.mmio().write(base + NOTIFY, 2, 0);
                int n = i;
                await(() -> driver.usedIndex() == n, "request " + n);
                assertThat(machine.memory().readByte(data)).isEqualTo((byte) i);
                assertThat(machine.memory().readByte(status)).as("VIRTIO_BLK_S_OK").isZero();
                int tries = i;
                await(() -> attempts.get() >= tries, "the MSI attempt for request " + tries);
            }
            // Masking and unmasking from the vCPU delivers what is pending: that fails too, and is contained too.
            w.accept(MSIX_TABLE + 16L + 12, 1L);
            w.accept(MSIX_TABLE + 16L + 12, 0L);
            assertThat(machine.mmio().read(base + COMMON + DEVICE_STATUS, 1) & VirtioStatus.DEVICE_NEEDS_RESET).as("the guest's misrouting is not a device fault").isZero();
            assertThat(t.errorCount()).isEqualTo(attempts.get());
            assertThat(logger.lines().stream().filter(RecordingLogger.Line::hasThrowable)).as("one stack trace").hasSize(1);
        } finally {
            t.close();
        }
    }
}
