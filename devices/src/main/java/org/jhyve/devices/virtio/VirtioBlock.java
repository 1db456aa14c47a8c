package org.jhyve.devices.virtio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.devices.block.BlockEngine;
import org.jhyve.devices.block.BlockEngines;
import org.jhyve.devices.block.BlockExecutor;
import org.jhyve.devices.block.BlockGeometry;
import org.jhyve.devices.block.BlockOutcome;
import org.jhyve.devices.block.BlockRequest;
import org.jhyve.devices.block.BlockRequest.Discard;
import org.jhyve.devices.block.BlockRequest.Flush;
import org.jhyve.devices.block.BlockRequest.Malformed;
import org.jhyve.devices.block.BlockRequest.Range;
import org.jhyve.devices.block.BlockRequest.Read;
import org.jhyve.devices.block.BlockRequest.Unsupported;
import org.jhyve.devices.block.BlockRequest.Write;
import org.jhyve.devices.block.BlockRequest.WriteZeroes;
import org.jhyve.devices.block.BlockRequest.ZeroRange;
import org.jhyve.devices.log.GuestErrorLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * virtio-blk (virtio 1.2, 5.2): a disk over a {@link BlockBackend}. Each queue is served by its own worker
 * thread; a request is parsed from its descriptor chain into a {@link BlockRequest}, which the disk's {@link
 * BlockExecutor} checks (sector range, lengths, read-only), runs against the backend and logs, and every
 * request gets a status from its outcome: OK, IOERR for a bad or failed one, UNSUPP for a type the device
 * does not know. GET_ID, which needs no disk, is answered here. FLUSH returns only once the backend made the
 * writes durable.
 *
 * <p>The requests of one queue run in parallel: the worker hands each to the activation's {@link BlockEngine}
 * and takes the next ({@link VirtioBlockQueue}); a FLUSH waits for the requests of its queue before it.
 */
public final class VirtioBlock implements VirtioDevice {
    private static final Logger log = LoggerFactory.getLogger(VirtioBlock.class);

    public static final int DEVICE_TYPE = 2;
    static final int SECTOR = 512;
    static final int T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WRITE_ZEROES = 13;
    static final int S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
    static final int F_SIZE_MAX = 1, F_SEG_MAX = 2, F_RO = 5, F_BLK_SIZE = 6, F_FLUSH = 9, F_TOPOLOGY = 10;
    static final int F_MQ = 12, F_DISCARD = 13, F_WRITE_ZEROES = 14;
    static final int QUEUE_SIZE = 256;
    /**
     * Threads running one disk's requests at once, for all its queues: as many as a guest's usual queue depth
     * and more (Linux keeps up to 128 per queue, fio benchmarks use 32); QEMU's aio=threads pool has 64.
     */
    static final int IO_THREADS = 64;
    /** Largest single buffer the driver may use (SIZE_MAX), and segments per discard/write-zeroes request. */
    static final int SIZE_MAX = 1 << 22, MAX_RANGE_SEGMENTS = 32;
    /** Sectors one discard or write-zeroes range may cover (32 GiB): max_discard_sectors and max_write_zeroes_sectors. */
    static final int MAX_RANGE_SECTORS = 1 << 26;
    private static final long MAX_RANGE_BYTES = (long) MAX_RANGE_SECTORS * SECTOR;
    private static final int HEADER = 16, RANGE = 16, CONFIG_SIZE = 60;
    /**
     * The most data one IN or OUT request may carry: more than size_max times seg_max, so a longer one can
     * only come from a driver ignoring both. Discard and write-zeroes ranges move no data and have their own
     * limit, {@link #MAX_RANGE_SECTORS}.
     */
    static final long MAX_TRANSFER = 1L << 30;

    private final String name;
    private final BlockEngines.Kind engineKind;
    private final BlockBackend backend;
    private final VirtioBlockOptions options;
    /** Capacity in 512-byte sectors: whole logical blocks only (bytes after the last whole one are not the guest's). */
    private final long capacity;
    private final byte[] config;
    private final byte[] id;
    private final List<QueueWorker> workers = new ArrayList<>();
    /** Runs the requests of the current activation (guarded by this); null while the device is reset. */
    private BlockEngine engine;
    private final AtomicLong badRequests = new AtomicLong();
    private final AtomicLong ioErrors = new AtomicLong();
    /**
     * Checks and runs the requests, and logs what the guest got wrong and what failed in the host (a full disk
     * fails every write), rate-limited; its logs and {@link #workerFaults} outlive the workers of one
     * activation, so a guest resetting the device over and over stays rate-limited too.
     */
    private final BlockExecutor executor;
    /** Faults the queue workers contained (refused interrupts), rate-limited. */
    private final GuestErrorLog workerFaults;

    /** Package-private: {@link BlockBackend} is not exported; the catalog builds one through {@link VirtioBlockFactory}. */
    VirtioBlock(String name, BlockBackend backend, VirtioBlockOptions options) {
        this(name, backend, options, BlockEngines.Kind.IO_URING);
    }

    /** With the engine of one's choice, for benchmarks comparing them. */
    VirtioBlock(String name, BlockBackend backend, VirtioBlockOptions options, BlockEngines.Kind engineKind) {
        this.engineKind = engineKind;
        this.name = name;
        this.backend = backend;
        this.options = options;
        this.capacity = backend.size() / options.logicalSectorSize() * (options.logicalSectorSize() / SECTOR);
        this.config = buildConfig();
        this.id = options.serial().orElse("").getBytes(StandardCharsets.US_ASCII);
        this.executor = new BlockExecutor(log, name, backend, new BlockGeometry(SECTOR, capacity, MAX_TRANSFER, MAX_RANGE_BYTES));
        this.workerFaults = new GuestErrorLog(log, name);
    }

    private byte[] buildConfig() {
        ByteBuffer c = ByteBuffer.allocate(CONFIG_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        c.putLong(0, capacity);                               // capacity in 512-byte sectors
        c.putInt(8, SIZE_MAX);                                // size_max
        c.putInt(12, QUEUE_SIZE - 2);                         // seg_max: room for header and status
        c.putInt(20, options.logicalSectorSize());            // blk_size
        c.put(24, (byte) Integer.numberOfTrailingZeros(options.physicalSectorSize() / options.logicalSectorSize()));
        c.putShort(26, (short) 1);                            // min_io_size, in logical blocks
        c.putShort(34, (short) options.queues());             // num_queues
        c.putInt(36, MAX_RANGE_SECTORS);                      // max_discard_sectors
        c.putInt(40, MAX_RANGE_SEGMENTS);                     // max_discard_seg
        c.putInt(44, options.logicalSectorSize() / SECTOR);   // discard_sector_alignment
        c.putInt(48, MAX_RANGE_SECTORS);                      // max_write_zeroes_sectors
        c.putInt(52, MAX_RANGE_SEGMENTS);                     // max_write_zeroes_seg
        c.put(56, (byte) 1);                                  // write_zeroes_may_unmap
        return c.array();
    }

    public String name() { return name; }

    @Override public int deviceType() { return DEVICE_TYPE; }

    @Override public int pciClassCode() { return 0x018000; } // mass storage, other

    @Override
    public long deviceFeatures() {
        long f = 1L << F_SIZE_MAX | 1L << F_SEG_MAX | 1L << F_BLK_SIZE | 1L << F_FLUSH | 1L << F_TOPOLOGY;
        if (options.queues() > 1) f |= 1L << F_MQ;
        if (backend.readOnly()) f |= 1L << F_RO;
        else f |= (options.discard() ? 1L << F_DISCARD : 0) | 1L << F_WRITE_ZEROES; // nodelete: no DISCARD
        return f;
    }

    @Override public int queueCount() { return options.queues(); }

    @Override public int maxQueueSize() { return QUEUE_SIZE; }

    @Override public int configSize() { return CONFIG_SIZE; }

    @Override
    public long configRead(int offset, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) v = v << 8 | (config[offset + i] & 0xff);
        return v;
    }

    @Override
    public synchronized void activate(VirtioQueues queues) {
        engine = BlockEngines.open(engineKind, name, executor, backend, IO_THREADS);
        for (int i = 0; i < queues.count(); i++) {
            SplitQueue queue = queues.queue(i);
            if (queue == null) continue;
            VirtioBlockQueue served = new VirtioBlockQueue(this, engine, queue.layout().size());
            workers.add(QueueWorker.start(name + "-q" + i, queues, i, served, workerFaults));
        }
    }

    @Override
    public synchronized void reset() {
        // A reset runs on a vCPU: the wait is bounded for all queues together, not per queue. A worker whose
        // requests are still inside the backend stops by itself when the last returns, and keeps the transport's
        // reset pending until then; the engine's threads finish what they hold, then end.
        QueueWorker.closeAll(workers, QueueWorker.CLOSE_WAIT);
        workers.clear();
        if (engine != null) engine.close();
        engine = null;
    }

    @Override
    public void close() {
        reset();
        try {
            backend.close();
        } catch (IOException e) {
            log.error("{}: closing {} failed: {}", name, options.path(), e.getMessage());
        }
    }

    /** Requests the device could not serve as asked (bad ranges, lengths, types), since start. */
    public long badRequests() { return badRequests.get(); }

    /** Requests that failed in the host (I/O errors), since start. */
    public long ioErrors() { return ioErrors.get(); }

    /**
     * Serves one request on the calling thread and returns the bytes written into the chain's writable buffers:
     * for tests and fuzzing, which want the answer at once. The queue workers start requests without waiting
     * ({@link VirtioBlockQueue}).
     */
    int handle(DescriptorChain chain) {
        BlockChainRequest r = new BlockChainRequest(this);
        BlockRequest toRun = r.begin(chain, null);
        if (toRun != null) r.finish(executor.execute(toRun));
        return r.written();
    }

    BlockExecutor executor() { return executor; }

    /**
     * The request a header and its buffers make: data after the header for OUT, before the status byte for IN,
     * an array of ranges after the header for DISCARD and WRITE_ZEROES.
     */
    BlockRequest parse(int type, long sector, GuestBuffers in, GuestBuffers out) {
        return switch (type) {
            case T_IN -> new Read(sector, out.length() - 1, bytes -> out.slices(0, bytes));
            case T_OUT -> new Write(sector, in.length() - HEADER, bytes -> in.slices(HEADER, bytes), false);
            case T_FLUSH -> new Flush();
            // On a read-only disk the executor refuses these whatever their ranges say, as it does a write, so the
            // ranges are not read: a malformed list there is no mistake of the guest's to count.
            case T_DISCARD -> backend.readOnly() || !options.discard() ? new Discard(List.of()) : ranges(type, in); // nodelete: the hint is not taken
            case T_WRITE_ZEROES -> backend.readOnly() ? new WriteZeroes(List.of()) : ranges(type, in);
            default -> new Unsupported("request type " + type);
        };
    }

    /**
     * DISCARD and WRITE_ZEROES carry an array of {sector, num_sectors, flags} ranges after the header. Only
     * write-zeroes may set a flag, UNMAP; an empty range is kept (it asks for nothing, but its sector is checked).
     */
    private BlockRequest ranges(int type, GuestBuffers in) {
        String what = type == T_DISCARD ? "discard" : "write-zeroes";
        long bytes = in.length() - HEADER;
        if (bytes == 0 || bytes % RANGE != 0 || bytes / RANGE > MAX_RANGE_SEGMENTS) {
            return Malformed.of("%s request with %d bytes of ranges", what, bytes);
        }
        ByteBuffer r = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        in.read(HEADER, r.array());
        List<Range> discard = new ArrayList<>();
        List<ZeroRange> zeroes = new ArrayList<>();
        for (int at = 0; at < bytes; at += RANGE) {
            long sector = r.getLong(at);
            long count = Integer.toUnsignedLong(r.getInt(at + 8));
            int flags = r.getInt(at + 12);
            boolean unmap = (flags & 1) != 0;
            if ((flags & ~1) != 0 || (type == T_DISCARD && unmap)) {
                return Malformed.of("range at sector %d: %d sectors, flags 0x%x not allowed", sector, count, flags);
            }
            if (type == T_DISCARD) discard.add(new Range(sector, count * SECTOR));
            else zeroes.add(new ZeroRange(sector, count * SECTOR, unmap));
        }
        return type == T_DISCARD ? new Discard(discard) : new WriteZeroes(zeroes);
    }

    /** GET_ID: the serial, padded with zeroes, in at most 20 bytes before the status byte. */
    long answerId(GuestBuffers out) {
        long len = Math.min(VirtioBlockOptions.SERIAL_BYTES, out.length() - 1);
        byte[] answer = new byte[(int) len];
        System.arraycopy(id, 0, answer, 0, Math.min(id.length, answer.length));
        out.write(0, answer);
        return len;
    }

    static String requestName(int type) {
        return switch (type) {
            case T_IN -> "read";
            case T_OUT -> "write";
            case T_FLUSH -> "flush";
            case T_GET_ID -> "get-id";
            case T_DISCARD -> "discard";
            case T_WRITE_ZEROES -> "write-zeroes";
            default -> "unsupported";
        };
    }

    /** Counts what the guest got wrong (bad ranges, lengths, types) and what failed in the host. */
    BlockOutcome count(BlockOutcome outcome) {
        switch (outcome) {
            case GUEST_ERROR, UNSUPPORTED -> badRequests.incrementAndGet();
            case HOST_ERROR -> ioErrors.incrementAndGet();
            case OK, READ_ONLY -> { }
        }
        return outcome;
    }
}
