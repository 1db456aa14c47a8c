package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.virtio.CommonConfig.*;

import java.util.concurrent.atomic.AtomicBoolean;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.devices.log.RecordingLogger;
import org.junit.jupiter.api.Test;

/**
 * The common configuration's registers alone (virtio 1.2, 4.1.4.3): no PCI, no BAR, no device, no threads. What
 * the transport does about a status write is the {@link CommonConfig.Action} it gets back.
 */
class CommonConfigTest {
    static final long OFFERED = 1L << VirtioStatus.F_VERSION_1 | 1L << VirtioStatus.F_EVENT_IDX | 1L << 9;
    static final int QUEUES = 2, MAX_SIZE = 256, VECTORS = QUEUES + 1;
    final RecordingLogger logger = new RecordingLogger();
    final GuestErrorLog errors = new GuestErrorLog(logger, "test");
    final CommonConfig common = new CommonConfig(OFFERED, QUEUES, MAX_SIZE, VECTORS, errors);

    int status() { return (int) common.read(DEVICE_STATUS, 1); }

    CommonConfig.Action setStatus(int value) { return common.write(DEVICE_STATUS, 1, value); }

    /** ACKNOWLEDGE, DRIVER, {@code features}, FEATURES_OK: returns the status read back. */
    int negotiate(long features) {
        setStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        for (int word = 0; word < 2; word++) {
            common.write(DRIVER_FEATURE_SELECT, 4, word);
            common.write(DRIVER_FEATURE, 4, (features >>> (32 * word)) & 0xffff_ffffL);
        }
        setStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        return status();
    }

    @Test
    void theOffsetsAreTheSpecs() {
        // virtio 1.2, 4.1.4.3, struct virtio_pci_common_cfg: the numbers every driver has compiled in.
        assertThat(new int[] {DEVICE_FEATURE_SELECT, DEVICE_FEATURE, DRIVER_FEATURE_SELECT, DRIVER_FEATURE, CONFIG_MSIX_VECTOR,
                NUM_QUEUES, DEVICE_STATUS, CONFIG_GENERATION, QUEUE_SELECT, QUEUE_SIZE, QUEUE_MSIX_VECTOR, QUEUE_ENABLE,
                QUEUE_NOTIFY_OFF, QUEUE_DESC, QUEUE_DRIVER, QUEUE_DEVICE, LENGTH})
                .containsExactly(0x00, 0x04, 0x08, 0x0c, 0x10, 0x12, 0x14, 0x15, 0x16, 0x18, 0x1a, 0x1c, 0x1e, 0x20, 0x28, 0x30, 0x38);
        assertThat(NO_VECTOR).isEqualTo(0xffff);
    }

    @Test
    void aFreshDeviceOffersItsFeaturesAndQueuesAndShowsNothingSet() {
        common.write(DEVICE_FEATURE_SELECT, 4, 0);
        assertThat(common.read(DEVICE_FEATURE, 4)).isEqualTo(OFFERED & 0xffff_ffffL);
        common.write(DEVICE_FEATURE_SELECT, 4, 1);
        assertThat(common.read(DEVICE_FEATURE, 4)).isEqualTo(OFFERED >>> 32);
        assertThat(common.read(NUM_QUEUES, 2)).isEqualTo(QUEUES);
        assertThat(status()).isZero();
        assertThat(common.read(CONFIG_MSIX_VECTOR, 2)).isEqualTo(NO_VECTOR);
        for (int q = 0; q < QUEUES; q++) {
            common.write(QUEUE_SELECT, 2, q);
            assertThat(common.read(QUEUE_SIZE, 2)).isEqualTo(MAX_SIZE);
            assertThat(common.read(QUEUE_MSIX_VECTOR, 2)).isEqualTo(NO_VECTOR);
            assertThat(common.read(QUEUE_ENABLE, 2)).isZero();
            assertThat(common.read(QUEUE_NOTIFY_OFF, 2)).as("queue_notify_off is the index").isEqualTo(q);
        }
        assertThat(common.read(LENGTH, 4)).as("past the structure").isZero();
    }

    @Test
    void readOnlyRegistersIgnoreWrites() {
        common.write(DEVICE_FEATURE, 4, 0xffff_ffffL);
        common.write(NUM_QUEUES, 2, 7);
        common.write(CONFIG_GENERATION, 1, 9);
        common.write(QUEUE_NOTIFY_OFF, 2, 5);
        assertThat(common.read(DEVICE_FEATURE, 4)).isEqualTo(OFFERED & 0xffff_ffffL);
        assertThat(common.read(NUM_QUEUES, 2)).isEqualTo(QUEUES);
        assertThat(common.read(CONFIG_GENERATION, 1)).isZero();
        assertThat(common.read(QUEUE_NOTIFY_OFF, 2)).isZero();
    }

    @Test
    void featureSelectsAreComparedUnsigned() {
        for (long select : new long[] {2, 0x7fff_ffffL, 0x8000_0000L, 0xffff_fffeL, 0xffff_ffffL}) {
            common.write(DEVICE_FEATURE_SELECT, 4, select);
            assertThat(common.read(DEVICE_FEATURE, 4)).as("device word 0x%x", select).isZero();
            common.write(DRIVER_FEATURE_SELECT, 4, select);
            common.write(DRIVER_FEATURE, 4, 0xffff_ffffL);
            assertThat(common.read(DRIVER_FEATURE, 4)).as("driver word 0x%x", select).isZero();
        }
        assertThat(common.driverFeatures()).as("no word was aliased").isZero();
    }

    @Test
    void featuresOkNeedsVersion1AndNothingUnoffered() {
        assertThat(negotiate(1L << 7) & VirtioStatus.FEATURES_OK).as("GEOMETRY is not offered").isZero();
        assertThat(errors.count()).as("reported").isEqualTo(1);
        assertThat(setStatus(0)).isEqualTo(CommonConfig.Action.RESET);
        common.reset();
        assertThat(negotiate(1L << 9) & VirtioStatus.FEATURES_OK).as("no VERSION_1: a legacy driver").isZero();
        common.reset();
        assertThat(negotiate(1L << VirtioStatus.F_VERSION_1 | 1L << 9) & VirtioStatus.FEATURES_OK).isNotZero();
        assertThat(common.driverFeatures()).isEqualTo(1L << VirtioStatus.F_VERSION_1 | 1L << 9);
        common.write(DRIVER_FEATURE_SELECT, 4, 0);
        common.write(DRIVER_FEATURE, 4, 0);
        assertThat(common.driverFeatures()).as("frozen after FEATURES_OK").isEqualTo(1L << VirtioStatus.F_VERSION_1 | 1L << 9);
    }

    @Test
    void statusBitsStaySetTheDriverCannotSetDeviceNeedsResetAndZeroAsksForAReset() {
        assertThat(setStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER)).isEqualTo(CommonConfig.Action.NONE);
        setStatus(VirtioStatus.ACKNOWLEDGE);
        assertThat(status()).isEqualTo(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        setStatus(VirtioStatus.DEVICE_NEEDS_RESET);
        assertThat(status() & VirtioStatus.DEVICE_NEEDS_RESET).isZero();
        assertThat(setStatus(0)).isEqualTo(CommonConfig.Action.RESET);
        assertThat(status()).as("the registers wait for the transport's reset").isEqualTo(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        common.reset();
        assertThat(status()).isZero();
    }

    @Test
    void driverOkActivatesOnlyAfterFeaturesOkAndOnlyOnce() {
        setStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        assertThat(setStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.DRIVER_OK)).as("without FEATURES_OK")
                .isEqualTo(CommonConfig.Action.NONE);
        common.reset();
        negotiate(1L << VirtioStatus.F_VERSION_1);
        assertThat(setStatus(0x0f)).isEqualTo(CommonConfig.Action.ACTIVATE);
        assertThat(setStatus(0x0f)).as("DRIVER_OK already set").isEqualTo(CommonConfig.Action.NONE);
    }

    @Test
    void deviceNeedsResetShowsInTheStatusAndKeepsDriverOkFromActivating() {
        negotiate(1L << VirtioStatus.F_VERSION_1);
        common.markNeedsReset();
        assertThat(common.needsReset()).isTrue();
        assertThat(status() & VirtioStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(setStatus(0x0f)).isEqualTo(CommonConfig.Action.NONE);
        common.reset();
        assertThat(status()).isZero();
        assertThat(common.needsReset()).isFalse();
    }

    @Test
    void aPendingResetShowsTheOldStatusAndIgnoresStatusWritesUntilItsWorkersStop() {
        negotiate(1L << VirtioStatus.F_VERSION_1);
        setStatus(0x0f);
        AtomicBoolean stopped = new AtomicBoolean();
        assertThat(common.holdResetUntil(stopped::get)).isEqualTo(0x0f);
        common.reset();
        assertThat(status()).as("not 0: the reset is not complete").isEqualTo(0x0f);
        assertThat(setStatus(VirtioStatus.ACKNOWLEDGE)).isEqualTo(CommonConfig.Action.NONE);
        assertThat(setStatus(0)).as("not even a reset").isEqualTo(CommonConfig.Action.NONE);
        assertThat(common.status()).isZero();
        stopped.set(true);
        assertThat(status()).isZero();
        setStatus(VirtioStatus.ACKNOWLEDGE);
        assertThat(status()).isEqualTo(VirtioStatus.ACKNOWLEDGE);
    }

    @Test
    void aResetPendingFromStatusZeroReadsAcknowledge() {
        assertThat(common.holdResetUntil(() -> false)).isEqualTo(VirtioStatus.ACKNOWLEDGE);
        assertThat(status()).isEqualTo(VirtioStatus.ACKNOWLEDGE);
    }

    @Test
    void configGenerationMovesWithEveryChangeAndWrapsAtAByte() {
        for (int i = 1; i <= 256; i++) {
            common.configChanged();
            assertThat(common.read(CONFIG_GENERATION, 1)).isEqualTo(i & 0xff);
        }
    }

    @Test
    void vectorsBeyondTheTableReadBackAsNoVector() {
        for (int vector = 0; vector < VECTORS; vector++) {
            common.write(CONFIG_MSIX_VECTOR, 2, vector);
            assertThat(common.configVector()).isEqualTo(vector);
            common.write(QUEUE_SELECT, 2, 1);
            common.write(QUEUE_MSIX_VECTOR, 2, vector);
            assertThat(common.queueVector(1)).isEqualTo(vector);
        }
        for (long vector : new long[] {VECTORS, 0x7ff, 0xfffe, 0xffff}) {
            common.write(CONFIG_MSIX_VECTOR, 2, vector);
            assertThat(common.read(CONFIG_MSIX_VECTOR, 2)).as("config vector 0x%x", vector).isEqualTo(NO_VECTOR);
            common.write(QUEUE_MSIX_VECTOR, 2, vector);
            assertThat(common.read(QUEUE_MSIX_VECTOR, 2)).as("queue vector 0x%x", vector).isEqualTo(NO_VECTOR);
        }
        common.write(CONFIG_MSIX_VECTOR, 4, 0x1_0001);
        assertThat(common.read(CONFIG_MSIX_VECTOR, 2)).as("a 16-bit register: vector 1").isEqualTo(1);
    }

    @Test
    void aQueueSelectBeyondTheQueuesReadsAsNoneAndWritesReachNothing() {
        for (int select : new int[] {QUEUES, 0x7fff, 0xffff}) {
            common.write(QUEUE_SELECT, 2, select);
            assertThat(common.read(QUEUE_SELECT, 2)).isEqualTo(select);
            common.write(QUEUE_SIZE, 2, 16);
            common.write(QUEUE_ENABLE, 2, 1);
            common.write(QUEUE_DESC, 8, 0x1000);
            assertThat(common.read(QUEUE_SIZE, 2)).isZero();
            assertThat(common.read(QUEUE_MSIX_VECTOR, 2)).isEqualTo(NO_VECTOR);
            assertThat(common.read(QUEUE_ENABLE, 2)).isZero();
            assertThat(common.read(QUEUE_NOTIFY_OFF, 2)).isZero();
            assertThat(common.read(QUEUE_DESC, 8)).isZero();
        }
        common.write(QUEUE_SELECT, 2, 0x1_0001);
        assertThat(common.read(QUEUE_SELECT, 2)).as("16 bits").isEqualTo(1);
    }

    @Test
    void queueAddressesAreTwoHalvesOrOneWideAccessAtTheLowHalf() {
        common.write(QUEUE_SELECT, 2, 0);
        common.write(QUEUE_DRIVER, 4, 0x2345_6780L);
        common.write(QUEUE_DRIVER + 4, 4, 1);
        assertThat(common.read(QUEUE_DRIVER, 8)).isEqualTo(0x1_2345_6780L);
        common.write(QUEUE_DEVICE, 8, 0x5_0000_3000L);
        assertThat(common.read(QUEUE_DEVICE, 4)).isEqualTo(0x3000);
        assertThat(common.read(QUEUE_DEVICE + 4, 8)).as("a wide read at the high half: that half").isEqualTo(5);
        common.write(QUEUE_DEVICE + 4, 8, 0xffff_ffff_0000_0007L);
        assertThat(common.read(QUEUE_DEVICE, 8)).isEqualTo(0x7_0000_3000L);
        common.write(QUEUE_DESC, 8, 0x1000);
        common.write(QUEUE_SIZE, 2, 16);
        assertThat(common.queue(0).layout()).isEqualTo(new QueueLayout(16, 0x1000, 0x1_2345_6780L, 0x7_0000_3000L));
    }

    @Test
    void anEnabledQueueIsFrozenAndNoQueueIsEnabledAfterDriverOk() {
        common.write(QUEUE_SELECT, 2, 0);
        common.write(QUEUE_SIZE, 2, 16);
        common.write(QUEUE_DESC, 8, 0x1000);
        common.write(QUEUE_ENABLE, 2, 1);
        common.write(QUEUE_SIZE, 2, 32);
        common.write(QUEUE_DESC, 8, 0x8000);
        common.write(QUEUE_ENABLE, 2, 0);
        assertThat(common.read(QUEUE_SIZE, 2)).isEqualTo(16);
        assertThat(common.read(QUEUE_DESC, 8)).isEqualTo(0x1000);
        assertThat(common.read(QUEUE_ENABLE, 2)).as("only a reset disables").isEqualTo(1);
        negotiate(1L << VirtioStatus.F_VERSION_1);
        setStatus(0x0f);
        common.write(QUEUE_SELECT, 2, 1);
        common.write(QUEUE_ENABLE, 2, 1);
        assertThat(common.read(QUEUE_ENABLE, 2)).as("after DRIVER_OK").isZero();
    }

    @Test
    void aResetForgetsTheDriversSetup() {
        negotiate(1L << VirtioStatus.F_VERSION_1);
        common.write(DEVICE_FEATURE_SELECT, 4, 1);
        common.write(CONFIG_MSIX_VECTOR, 2, 0);
        common.write(QUEUE_SELECT, 2, 1);
        common.write(QUEUE_SIZE, 2, 8);
        common.write(QUEUE_MSIX_VECTOR, 2, 2);
        common.write(QUEUE_ENABLE, 2, 1);
        common.configChanged();
        common.reset();
        assertThat(common.read(DEVICE_FEATURE_SELECT, 4)).isZero();
        assertThat(common.read(DRIVER_FEATURE_SELECT, 4)).isZero();
        assertThat(common.driverFeatures()).isZero();
        assertThat(common.read(CONFIG_MSIX_VECTOR, 2)).isEqualTo(NO_VECTOR);
        assertThat(common.read(QUEUE_SELECT, 2)).isZero();
        assertThat(common.queue(1).size).isEqualTo(MAX_SIZE);
        assertThat(common.queueVector(1)).isEqualTo(NO_VECTOR);
        assertThat(common.queue(1).enabled).isFalse();
        assertThat(common.read(CONFIG_GENERATION, 1)).as("the generation is the device's: it does not go back").isEqualTo(1);
    }
}
