package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.ahci.AhciRegisters.*;
import static org.jhyve.devices.ahci.AhciTestDriver.DATA;
import static org.jhyve.devices.ahci.AhciTestDriver.awaitTrue;
import static org.jhyve.devices.ahci.AhciTestDriver.commandFis;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.devices.ahci.AhciTestDriver.Prd;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Native queued commands of one port run at the same time, each on a worker of its own (up to the disk's
 * parallelCommands), as a guest keeping 32 tags in flight expects; a command that is not queued still runs alone.
 * The backend holds every read at a gate and counts how many are inside at once: a port running its commands one
 * at a time never has two there.
 */
class AhciParallelNcqTest {
    static final int READ_DMA_EXT = 0x25, READ_FPDMA = 0x60, LBA = 0x40;

    /** Reads wait at the gate; {@code inside} and {@code most} count the reads in the backend now and at most. */
    static final class CountingBackend implements BlockBackend {
        final MemoryBlockBackend data = new MemoryBlockBackend(1 << 20, false);
        final CountDownLatch gate = new CountDownLatch(1);
        final AtomicInteger inside = new AtomicInteger(), most = new AtomicInteger(), entered = new AtomicInteger();

        CountingBackend() {
            for (int i = 0; i < data.data.length; i++) data.data[i] = (byte) (i * 7 + i / 512);
        }

        @Override public long size() { return data.size(); }
        @Override public boolean readOnly() { return false; }

        @Override
        public void read(long offset, List<MemorySegment> buffers) throws IOException {
            most.accumulateAndGet(inside.incrementAndGet(), Math::max);
            entered.incrementAndGet();
            try {
                if (!gate.await(10, TimeUnit.SECONDS)) throw new IOException("gate never opened");
            } catch (InterruptedException e) {
                throw new IOException(e);
            } finally {
                inside.decrementAndGet();
            }
            data.read(offset, buffers);
        }

        @Override public void write(long offset, List<MemorySegment> buffers) throws IOException { data.write(offset, buffers); }
        @Override public void flush() throws IOException { data.flush(); }
        @Override public void discard(long offset, long length) throws IOException { data.discard(offset, length); }
        @Override public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException { data.writeZeroes(offset, length, mayUnmap); }
        @Override public void close() throws IOException { data.close(); }
    }

    final CountingBackend backend = new CountingBackend();
    final AtaDisk disk = new AtaDisk("disk", backend, AhciDriveOptions.parse(DriveKind.HD, "counting.img"));
    final AhciTestDriver driver = new AhciTestDriver(disk);

    AhciParallelNcqTest() {
        driver.resetAndStart(true);
    }

    @AfterEach
    void close() {
        backend.gate.countDown();
        driver.close();
    }

    /** A queued read of one sector at {@code lba} in {@code slot} (tag = slot) into its own buffer. */
    void prepareQueued(int slot, long lba) {
        driver.prepare(0, slot, commandFis(READ_FPDMA, 1, lba, slot << 3, LBA), null, false, List.of(new Prd(DATA + 4096L * slot, 512)));
    }

    byte[] sector(long lba) {
        return Arrays.copyOfRange(backend.data.data, (int) lba * 512, (int) lba * 512 + 512);
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void queuedCommandsAreInTheBackendAtTheSameTimeAndEachLandsInItsOwnBuffer() {
        for (int slot = 0; slot < 4; slot++) prepareQueued(slot, 10 + 3 * slot);
        driver.port(0, P_SACT, 0b1111);
        driver.port(0, P_CI, 0b1111);
        awaitTrue("all four reads are in the backend at once", () -> backend.inside.get() == 4);
        assertThat(driver.port(0, P_SACT)).as("none has completed").isEqualTo(0b1111);
        backend.gate.countDown();
        awaitTrue("all four complete", () -> driver.port(0, P_SACT) == 0 && driver.port(0, P_CI) == 0);
        assertThat(driver.port(0, P_IS) & ~IS_SDBS).as("no error").isZero();
        for (int slot = 0; slot < 4; slot++) {
            assertThat(driver.memory.readBytes(DATA + 4096L * slot, 512)).as("slot %d", slot).isEqualTo(sector(10 + 3 * slot));
        }
    }

    @Test
    void noMoreThanTheDisksParallelCommandsRunAtOnceAndTheRestFollow() {
        int tags = 12;
        for (int slot = 0; slot < tags; slot++) prepareQueued(slot, slot);
        driver.port(0, P_SACT, (1 << tags) - 1);
        driver.port(0, P_CI, (1 << tags) - 1);
        awaitTrue("the workers are all in the backend", () -> backend.inside.get() == disk.parallelCommands());
        backend.gate.countDown();
        awaitTrue("all twelve complete", () -> driver.port(0, P_SACT) == 0);
        assertThat(backend.most.get()).isEqualTo(disk.parallelCommands());
        assertThat(backend.entered.get()).isEqualTo(tags);
        for (int slot = 0; slot < tags; slot++) assertThat(driver.memory.readBytes(DATA + 4096L * slot, 512)).isEqualTo(sector(slot));
    }

    @Test
    void aCommandThatIsNotQueuedWaitsUntilTheQueuedOnesHaveReturned() {
        prepareQueued(0, 1);
        prepareQueued(1, 2);
        driver.port(0, P_SACT, 0b11);
        driver.port(0, P_CI, 0b11);
        awaitTrue("both queued reads are in the backend", () -> backend.inside.get() == 2);
        driver.prepare(0, 2, commandFis(READ_DMA_EXT, 0, 5, 1, LBA), null, false, List.of(new Prd(DATA + 4096L * 2, 512)));
        driver.port(0, P_CI, 0b100);
        sleep(200); // the workers are in the backend, so the port never settles: give a wrong start time to happen
        assertThat(backend.entered.get()).as("the READ DMA EXT has not started").isEqualTo(2);
        assertThat(driver.port(0, P_CI) & 0b100).isEqualTo(0b100);
        backend.gate.countDown();
        awaitTrue("everything completes", () -> driver.port(0, P_CI) == 0 && driver.port(0, P_SACT) == 0);
        assertThat(backend.most.get()).as("it ran after them, alone").isEqualTo(2);
        assertThat(driver.memory.readBytes(DATA + 4096L * 2, 512)).isEqualTo(sector(5));
    }
}
