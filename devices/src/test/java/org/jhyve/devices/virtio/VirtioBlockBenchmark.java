package org.jhyve.devices.virtio;

import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import org.jhyve.devices.block.BlockEngines;
import org.jhyve.devices.block.FileBlockBackend;
import org.jhyve.hv.Doorbell;
import org.jhyve.hv.SoftwareDoorbell;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * virtio-blk on the host without a VM: a driver thread keeps {@code depth} reads in flight on one real
 * {@link SplitQueue} (EVENT_IDX on both sides, as Linux negotiates it) in native guest memory, and
 * {@link VirtioBlock} serves them from an image opened as the device would open it. The driver sleeps until
 * the device "interrupts" it (an unpark), as a guest's would, so the two do not fight over the CPU with a
 * spinning poll. The figures compare with fio on the same file ({@code docs/} has the commands).
 *
 * <p>Runs only when asked for, with an image of written (not sparse) data:
 * <pre>
 *   dd if=/dev/urandom of=/work/blkbench/disk.img bs=1M count=1024 oflag=direct
 *   JHYVE_SKIP_LINUX=1 mvn -o -B -pl devices -am test -Dtest=VirtioBlockBenchmark -Dsurefire.failIfNoSpecifiedTests=false \
 *       -Djhyve.bench.image=/work/blkbench/disk.img [-Djhyve.bench.options=,nocache] [-Djhyve.bench.seconds=10] \
 *       [-Djhyve.bench.repeats=3] [-Djhyve.bench.engines=IO_URING,THREADS] [-Djhyve.bench.only=qd32]
 *   grep -h BENCH devices/target/surefire-reports/org.jhyve.devices.virtio.VirtioBlockBenchmark-output.txt
 * </pre>
 * (Surefire keeps a test's output in its report file.) Each figure is the median of the runs.
 */
@EnabledIfSystemProperty(named = "jhyve.bench.image", matches = ".+")
class VirtioBlockBenchmark {
    private static final int QUEUE_SIZE = VirtioBlock.QUEUE_SIZE;
    private static final int HEADER = 16;

    /** One workload: depth requests of {@code blockSize} bytes each, at random or sequential offsets. */
    record Workload(String name, int depth, int blockSize, boolean random) {}

    /** The same run without Maven: {@code java -cp ... org.jhyve.devices.virtio.VirtioBlockBenchmark}, with the same properties. */
    public static void main(String[] args) throws Exception {
        new VirtioBlockBenchmark().run();
    }

    @Test
    void run() throws Exception {
        String image = System.getProperty("jhyve.bench.image");
        String options = System.getProperty("jhyve.bench.options", ",nocache");
        double seconds = Double.parseDouble(System.getProperty("jhyve.bench.seconds", "10"));
        int repeats = Integer.getInteger("jhyve.bench.repeats", 3);
        List<Workload> workloads = List.of(
                new Workload("4k-randread-qd1", 1, 4096, true),
                new Workload("4k-randread-qd32", 32, 4096, true),
                new Workload("128k-seqread-qd32", 32, 128 << 10, false));
        String only = System.getProperty("jhyve.bench.only", "");
        List<BlockEngines.Kind> engines = Arrays.stream(System.getProperty("jhyve.bench.engines", "IO_URING,THREADS").split(","))
                .map(BlockEngines.Kind::valueOf).toList();
        for (Workload w : workloads) {
            if (!only.isEmpty() && !w.name().contains(only)) continue;
            double[][] iops = new double[engines.size()][repeats];
            // Engines take turns, run after run, so that load from elsewhere on the host falls on each alike.
            for (int r = 0; r < repeats; r++) {
                for (int e = 0; e < engines.size(); e++) iops[e][r] = measure(image, options, engines.get(e), w, seconds);
            }
            for (int e = 0; e < engines.size(); e++) {
                double[] sorted = iops[e].clone();
                Arrays.sort(sorted);
                double median = sorted[repeats / 2];
                System.out.printf("BENCH %-20s %-8s median %9.0f IOPS %8.1f MiB/s  runs %s%n", w.name(), engines.get(e), median,
                        median * w.blockSize() / (1 << 20), Arrays.toString(Arrays.stream(iops[e]).map(Math::rint).toArray()));
            }
        }
    }

    /** One run of {@code seconds} after a one-second warm-up; returns completed requests per second. */
    private static double measure(String image, String options, BlockEngines.Kind engine, Workload w, double seconds) throws Exception {
        VirtioBlockOptions opts = VirtioBlockOptions.parse(image + options);
        FileBlockBackend backend = FileBlockBackend.open(image, true, opts.direct(), false);
        VirtioBlock device = new VirtioBlock("bench", backend, opts, engine);
        try (Rig rig = new Rig(device, w)) {
            rig.runFor(1.0);
            long before = rig.completed, start = System.nanoTime();
            rig.runFor(seconds);
            return (rig.completed - before) / ((System.nanoTime() - start) / 1e9);
        } finally {
            device.close();
        }
    }

    /** The driver's side: one queue, {@code depth} fixed request slots of three descriptors each. */
    private static final class Rig implements VirtioQueues, AutoCloseable {
        private final GuestMemory memory = SegmentGuestMemory.onHeap(64L << 20);
        private final VirtqueueDriver driver = new VirtqueueDriver(memory, 0x10000, QUEUE_SIZE, 1 << 20, 60L << 20);
        private final SplitQueue queue;
        private final SoftwareDoorbell doorbell = new SoftwareDoorbell();
        private final VirtioBlock device;
        private final Workload w;
        private final long sectors;
        private final long[] headerAt, dataAt;
        private final SplittableRandom random = new SplittableRandom(17);
        private volatile Thread driverThread;
        private volatile String failure;
        private long nextSector;
        private int usedSeen;
        long completed;

        Rig(VirtioBlock device, Workload w) throws VirtqueueException {
            this.device = device;
            this.w = w;
            this.queue = new SplitQueue(memory, driver.layout(), true, false);
            this.sectors = device.configRead(0, 8);
            headerAt = new long[w.depth()];
            dataAt = new long[w.depth()];
            for (int slot = 0; slot < w.depth(); slot++) {
                headerAt[slot] = driver.allocate(HEADER + 1, 64);
                dataAt[slot] = driver.allocate(w.blockSize(), 4096);
                long status = headerAt[slot] + HEADER;
                int d = slot * 3;
                driver.writeDescriptor(d, headerAt[slot], HEADER, VirtqueueDriver.DESC_F_NEXT, d + 1);
                driver.writeDescriptor(d + 1, dataAt[slot], w.blockSize(), VirtqueueDriver.DESC_F_NEXT | VirtqueueDriver.DESC_F_WRITE, d + 2);
                driver.writeDescriptor(d + 2, status, 1, VirtqueueDriver.DESC_F_WRITE, 0);
            }
            device.activate(this);
            driverThread = Thread.currentThread();
            for (int slot = 0; slot < w.depth(); slot++) queueSlot(slot);
            kick(0);
        }

        private void queueSlot(int slot) {
            long sector;
            long blockSectors = w.blockSize() / VirtioBlock.SECTOR;
            if (w.random()) {
                sector = random.nextLong(sectors / blockSectors) * blockSectors;
            } else {
                sector = nextSector;
                nextSector = nextSector + blockSectors >= sectors ? 0 : nextSector + blockSectors;
            }
            memory.writeInt(headerAt[slot], VirtioBlock.T_IN);
            memory.writeLong(headerAt[slot] + 8, sector);
            driver.publish(slot * 3);
        }

        /** Notifies the device if it asked for it since avail index {@code oldAvail}. */
        private void kick(int oldAvail) {
            VarHandle.fullFence();
            if (driver.deviceWantsNotification(oldAvail, true)) doorbell.ring();
        }

        void runFor(double seconds) {
            long end = System.nanoTime() + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                if (failure != null) throw new AssertionError("queue failed: " + failure);
                int oldAvail = driver.availIndex();
                int got = 0;
                VirtqueueDriver.Used used;
                while ((used = driver.nextUsed()) != null) {
                    usedSeen = (usedSeen + 1) & 0xffff;
                    got++;
                    int slot = used.head() / 3;
                    if (memory.readByte(headerAt[slot] + HEADER) != VirtioBlock.S_OK) throw new AssertionError("request failed");
                    queueSlot(slot);
                }
                completed += got;
                if (got > 0) {
                    kick(oldAvail);
                    continue;
                }
                // As virtqueue_enable_cb: ask for an interrupt at the next used entry, then look once more.
                driver.setUsedEvent(usedSeen);
                VarHandle.fullFence();
                if (driver.usedIndex() != usedSeen) continue;
                LockSupport.parkNanos(1_000_000);
            }
        }

        @Override public GuestMemory memory() { return memory; }

        @Override public long features() { return 0; }

        @Override public int count() { return 1; }

        @Override public SplitQueue queue(int index) { return queue; }

        @Override public Doorbell doorbell(int index) { return doorbell; }

        @Override
        public void interrupt(int index) {
            Thread t = driverThread;
            if (t != null) LockSupport.unpark(t);
        }

        @Override public void fail(String reason) { failure = reason; }

        @Override
        public void close() {
            doorbell.close();
            device.reset();
        }
    }
}
