package org.jhyve.devices.virtio;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.hv.Doorbell;
import org.jhyve.hv.SoftwareDoorbell;
import org.jhyve.memory.GuestMemory;

/**
 * One activated queue as a transport hands it to a device, for worker tests: the driver's queue in guest memory,
 * a software doorbell, an interrupt that runs {@code onInterrupt} (which may throw, as a refused MSI does), and
 * the reasons given to {@link #fail} and the workers' start and stop, recorded.
 */
final class TestQueues implements VirtioQueues {
    interface Interrupt {
        void signal(int index);
    }

    final VirtqueueDriver driver;
    final SplitQueue queue;
    final SoftwareDoorbell doorbell = new SoftwareDoorbell();
    final AtomicInteger interrupts = new AtomicInteger();
    final List<String> failures = new CopyOnWriteArrayList<>();
    final AtomicInteger workersStarted = new AtomicInteger(), workersStopped = new AtomicInteger();
    volatile Interrupt onInterrupt = index -> { };

    TestQueues(GuestMemory memory) throws VirtqueueException {
        this.driver = new VirtqueueDriver(memory, 0x1000, 16, 0x10000, 1 << 20);
        this.queue = new SplitQueue(memory, driver.layout(), false, false);
    }

    @Override public GuestMemory memory() { return driver.memory(); }

    @Override public long features() { return 1L << VirtioStatus.F_VERSION_1; }

    @Override public int count() { return 1; }

    @Override public SplitQueue queue(int index) { return index == 0 ? queue : null; }

    @Override public Doorbell doorbell(int index) { return doorbell; }

    @Override
    public void interrupt(int index) {
        interrupts.incrementAndGet();
        onInterrupt.signal(index);
    }

    @Override public void fail(String reason) { failures.add(reason); }

    @Override public void workerStarted() { workersStarted.incrementAndGet(); }

    @Override public void workerStopped() { workersStopped.incrementAndGet(); }
}
