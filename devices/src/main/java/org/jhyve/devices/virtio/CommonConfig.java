package org.jhyve.devices.virtio;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.jhyve.devices.log.GuestErrorLog;

/**
 * The common configuration structure of the virtio PCI transport (virtio 1.2, 4.1.4.3) as a register file: what
 * the driver reads and writes at each offset, feature negotiation, and the rules of device_status. It knows
 * nothing of PCI, BARs, queues at work or threads: {@link VirtioPciTransport} maps it at
 * {@link VirtioPciLayout#COMMON} in BAR0 and does what a status write asks of it ({@link Action}).
 *
 * <p>Every register the driver writes is a guest value: selectors, sizes and vectors are checked (unsigned) where
 * they are used; out-of-range ones read back as the spec's "none" (0, {@link #NO_VECTOR}) and never index anything.
 * Queue registers are frozen once the queue is enabled, and a queue cannot be enabled once DRIVER_OK is set.
 *
 * <p>Threading rules. Not thread-safe: the transport calls every method under its register lock, except four
 * that the device's worker threads call as well, without it: {@link #queueVector}, {@link #configVector},
 * {@link #markNeedsReset} (with {@link #needsReset}) and {@link #configChanged}, whose state is volatile or atomic.
 */
final class CommonConfig {
    // Offsets in the structure (virtio 1.2, 4.1.4.3), with the widths the spec gives them.
    static final int DEVICE_FEATURE_SELECT = 0x00; // le32
    static final int DEVICE_FEATURE = 0x04;        // le32, read-only: word DEVICE_FEATURE_SELECT of the offered features
    static final int DRIVER_FEATURE_SELECT = 0x08; // le32
    static final int DRIVER_FEATURE = 0x0c;        // le32: word DRIVER_FEATURE_SELECT of the accepted features
    static final int CONFIG_MSIX_VECTOR = 0x10;    // le16
    static final int NUM_QUEUES = 0x12;            // le16, read-only
    static final int DEVICE_STATUS = 0x14;         // u8
    static final int CONFIG_GENERATION = 0x15;     // u8, read-only
    static final int QUEUE_SELECT = 0x16;          // le16: the queue the QUEUE_* registers below show
    static final int QUEUE_SIZE = 0x18;            // le16
    static final int QUEUE_MSIX_VECTOR = 0x1a;     // le16
    static final int QUEUE_ENABLE = 0x1c;          // le16
    static final int QUEUE_NOTIFY_OFF = 0x1e;      // le16, read-only
    static final int QUEUE_DESC = 0x20;            // le64, as two le32 halves
    static final int QUEUE_DRIVER = 0x28;          // le64, the available ring
    static final int QUEUE_DEVICE = 0x30;          // le64, the used ring
    /** Bytes of the structure. */
    static final int LENGTH = 0x38;

    /** The "no vector" of the MSI-X vector registers; also what they read back when the mapping failed. */
    static final int NO_VECTOR = 0xffff;

    /** What a register write asks of the transport beyond the registers. */
    enum Action {
        NONE,
        /** The driver wrote 0 to device_status: stop the device, then {@link #reset} the registers. */
        RESET,
        /** DRIVER_OK was set after FEATURES_OK: start the device on the queues the driver enabled. */
        ACTIVATE
    }

    private final long offeredFeatures;
    private final int maxQueueSize;
    /** Entries of the MSI-X table: vectors at or above are refused. */
    private final int vectors;
    private final GuestErrorLog errors;

    private int deviceFeatureSelect, driverFeatureSelect;
    private long driverFeatures;
    /** device_status as the driver set it; DEVICE_NEEDS_RESET is never in it. */
    private int status;
    /** Set by a worker that found the driver broke a queue; reads as DEVICE_NEEDS_RESET until a reset. */
    private volatile boolean needsReset;
    /** config_generation: moves when the device configuration changes under the driver (a link going down). */
    private final AtomicInteger generation = new AtomicInteger();
    /** Read by worker threads when they interrupt. */
    private volatile int configVector = NO_VECTOR;
    private int queueSelect;
    private final QueueRegisters[] queues;
    /**
     * A reset whose workers have not all stopped (one is stuck in its backend): until this says they have,
     * device_status reads {@link #statusDuringReset} and status writes are ignored, since the reset is not
     * complete (virtio 1.2, 2.4.1: the driver waits for device_status to read 0). Null when none is pending.
     */
    private BooleanSupplier pendingResetDone;
    private int statusDuringReset;

    /**
     * Registers for a device offering {@code offeredFeatures}, with {@code queueCount} queues of at most
     * {@code maxQueueSize} entries and an MSI-X table of {@code vectors} entries; the driver's mistakes go to
     * {@code errors}.
     */
    CommonConfig(long offeredFeatures, int queueCount, int maxQueueSize, int vectors, GuestErrorLog errors) {
        this.offeredFeatures = offeredFeatures;
        this.maxQueueSize = maxQueueSize;
        this.vectors = vectors;
        this.errors = errors;
        this.queues = new QueueRegisters[queueCount];
        for (int i = 0; i < queues.length; i++) queues[i] = new QueueRegisters(maxQueueSize);
    }

    /** The register at {@code offset}, {@code size} bytes wide; 0 where there is none. */
    long read(int offset, int size) {
        QueueRegisters q = selectedQueue();
        return switch (offset) {
            case DEVICE_FEATURE_SELECT -> deviceFeatureSelect;
            case DEVICE_FEATURE -> featureWord(offeredFeatures, deviceFeatureSelect);
            case DRIVER_FEATURE_SELECT -> driverFeatureSelect;
            case DRIVER_FEATURE -> featureWord(driverFeatures, driverFeatureSelect);
            case CONFIG_MSIX_VECTOR -> configVector;
            case NUM_QUEUES -> queues.length;
            case DEVICE_STATUS -> resetPending() ? statusDuringReset : status | (needsReset ? VirtioStatus.DEVICE_NEEDS_RESET : 0);
            case CONFIG_GENERATION -> generation.get() & 0xff;
            case QUEUE_SELECT -> queueSelect;
            case QUEUE_SIZE -> q == null ? 0 : q.size;
            case QUEUE_MSIX_VECTOR -> q == null ? NO_VECTOR : q.msixVector;
            case QUEUE_ENABLE -> q != null && q.enabled ? 1 : 0;
            case QUEUE_NOTIFY_OFF -> q == null ? 0 : queueSelect;
            case QUEUE_DESC, QUEUE_DESC + 4 -> q == null ? 0 : half(q.desc, offset - QUEUE_DESC, size);
            case QUEUE_DRIVER, QUEUE_DRIVER + 4 -> q == null ? 0 : half(q.driver, offset - QUEUE_DRIVER, size);
            case QUEUE_DEVICE, QUEUE_DEVICE + 4 -> q == null ? 0 : half(q.device, offset - QUEUE_DEVICE, size);
            default -> 0;
        };
    }

    /** Writes the register at {@code offset}; returns what the transport must do about it. */
    Action write(int offset, int size, long value) {
        QueueRegisters q = selectedQueue();
        boolean running = (status & VirtioStatus.DRIVER_OK) != 0;
        boolean featuresLocked = (status & VirtioStatus.FEATURES_OK) != 0;
        switch (offset) {
            case DEVICE_FEATURE_SELECT -> deviceFeatureSelect = (int) value;
            case DRIVER_FEATURE_SELECT -> driverFeatureSelect = (int) value;
            case DRIVER_FEATURE -> {
                if (!featuresLocked && Integer.compareUnsigned(driverFeatureSelect, 2) < 0) {
                    int shift = 32 * driverFeatureSelect;
                    driverFeatures = (driverFeatures & ~(0xffffffffL << shift)) | ((value & 0xffffffffL) << shift);
                }
            }
            case CONFIG_MSIX_VECTOR -> configVector = vector(value);
            case DEVICE_STATUS -> {
                return writeStatus((int) value & 0xff);
            }
            case QUEUE_SELECT -> queueSelect = (int) value & 0xffff;
            case QUEUE_SIZE -> {
                if (q != null && !q.enabled) q.size = (int) value & 0xffff;
            }
            case QUEUE_MSIX_VECTOR -> {
                if (q != null) q.msixVector = vector(value);
            }
            case QUEUE_ENABLE -> {
                if (q != null && (value & 1) == 1 && !running) q.enabled = true;
            }
            case QUEUE_DESC, QUEUE_DESC + 4 -> { if (q != null && !q.enabled) q.desc = setHalf(q.desc, offset - QUEUE_DESC, size, value); }
            case QUEUE_DRIVER, QUEUE_DRIVER + 4 -> { if (q != null && !q.enabled) q.driver = setHalf(q.driver, offset - QUEUE_DRIVER, size, value); }
            case QUEUE_DEVICE, QUEUE_DEVICE + 4 -> { if (q != null && !q.enabled) q.device = setHalf(q.device, offset - QUEUE_DEVICE, size, value); }
            default -> { }
        }
        return Action.NONE;
    }

    private QueueRegisters selectedQueue() {
        return queueSelect < queues.length ? queues[queueSelect] : null;
    }

    /**
     * Word {@code select} of a 64-bit feature set. The select register is 32 bits the guest chose: compared
     * unsigned, so 0xffffffff is no word at all (a signed compare took it as -1, and a shift by -32 is a shift by
     * 32 in Java: the high word).
     */
    private static long featureWord(long features, int select) {
        return Integer.compareUnsigned(select, 2) < 0 ? (features >>> (32 * select)) & 0xffffffffL : 0;
    }

    /** A queue address as the driver reads it: all 64 bits at the low word's offset, else one 32-bit half. */
    private static long half(long value, int at, int size) {
        return size == 8 && at == 0 ? value : (value >>> (8 * at)) & 0xffffffffL;
    }

    private static long setHalf(long old, int at, int size, long value) {
        if (size == 8 && at == 0) return value;
        long mask = 0xffffffffL << (8 * at);
        return (old & ~mask) | ((value & 0xffffffffL) << (8 * at));
    }

    /** A vector the MSI-X table has, or NO_VECTOR (which the driver reads back to learn the mapping failed). */
    private int vector(long value) {
        int v = (int) value & 0xffff;
        return v < vectors ? v : NO_VECTOR;
    }

    private Action writeStatus(int value) {
        if (resetPending()) return Action.NONE;
        if (value == 0) return Action.RESET;
        // DEVICE_NEEDS_RESET is the device's to set; status bits once set stay set until a reset (the driver may
        // not clear them, and a write that tries only adds what it has).
        value &= ~VirtioStatus.DEVICE_NEEDS_RESET;
        int added = value & ~status;
        int next = status | value;
        if ((added & VirtioStatus.FEATURES_OK) != 0 && !featuresAcceptable()) {
            next &= ~VirtioStatus.FEATURES_OK;
        }
        status = next;
        boolean start = (added & VirtioStatus.DRIVER_OK) != 0 && (status & VirtioStatus.FEATURES_OK) != 0 && !needsReset;
        return start ? Action.ACTIVATE : Action.NONE;
    }

    private boolean featuresAcceptable() {
        long unknown = driverFeatures & ~offeredFeatures;
        if (unknown != 0) {
            errors.report("driver asked for features it was not offered: 0x%x", unknown);
            return false;
        }
        // Modern transport only: a legacy driver (no VERSION_1) cannot work with this layout.
        return (driverFeatures & 1L << VirtioStatus.F_VERSION_1) != 0;
    }

    /** Whether a reset is still waiting for a worker stuck in its backend; forgets it once none is left. */
    private boolean resetPending() {
        if (pendingResetDone != null && pendingResetDone.getAsBoolean()) pendingResetDone = null;
        return pendingResetDone != null;
    }

    /**
     * The device's reset left a worker behind: until {@code done} says it has stopped, device_status reads what it
     * read before the reset (ACKNOWLEDGE if that was 0, never 0) and status writes are ignored. Call it before
     * {@link #reset}; returns the status the driver now reads.
     */
    int holdResetUntil(BooleanSupplier done) {
        pendingResetDone = done;
        statusDuringReset = status != 0 ? status : VirtioStatus.ACKNOWLEDGE;
        return statusDuringReset;
    }

    /** Device reset: forgets the driver's setup (status, features, selectors, vectors, queues). */
    void reset() {
        status = 0;
        needsReset = false;
        driverFeatures = 0;
        deviceFeatureSelect = driverFeatureSelect = 0;
        queueSelect = 0;
        configVector = NO_VECTOR;
        for (int i = 0; i < queues.length; i++) queues[i] = new QueueRegisters(maxQueueSize);
    }

    /** device_status as the driver set it, without DEVICE_NEEDS_RESET or a pending reset's stand-in. */
    int status() { return status; }

    /** The features the driver accepted (final once FEATURES_OK is set). */
    long driverFeatures() { return driverFeatures; }

    int queueCount() { return queues.length; }

    /** What the driver wrote for queue {@code index}. */
    QueueRegisters queue(int index) { return queues[index]; }

    /** The MSI-X vector of queue {@code index}, or NO_VECTOR. Any thread. */
    int queueVector(int index) { return queues[index].msixVector; }

    /** The MSI-X vector for configuration changes, or NO_VECTOR. Any thread. */
    int configVector() { return configVector; }

    /** Sets DEVICE_NEEDS_RESET until the next reset. Any thread. */
    void markNeedsReset() { needsReset = true; }

    /** Whether DEVICE_NEEDS_RESET is set. Any thread. */
    boolean needsReset() { return needsReset; }

    /** The device configuration changed under the driver: config_generation moves. Any thread. */
    void configChanged() { generation.incrementAndGet(); }
}
