package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.ahci.AhciRegisters.*;
import static org.jhyve.devices.ahci.AhciTestDriver.DATA;
import static org.jhyve.devices.ahci.AhciTestDriver.commandFis;
import static org.jhyve.devices.ahci.AhciTestDriver.word;

import java.util.Arrays;
import java.util.List;
import org.jhyve.devices.ahci.AhciTestDriver.Prd;
import org.jhyve.devices.block.RecordingBlockBackend;
import org.jhyve.devices.block.RecordingBlockBackend.Fault;
import org.jhyve.devices.block.RecordingBlockBackend.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ahci-hd's durability and error statuses, through the HBA and the port's worker thread, over a backend that
 * logs every write and sync: FLUSH CACHE (EXT) completes only after a sync covering every write completed
 * before it; a FUA write (WRITE DMA FUA EXT, WRITE FPDMA QUEUED with FUA) and any write with the write cache
 * off only after a sync of itself; a host failure is ERR in the task file (ABRT for writes and flushes, UNC
 * for reads), and after libata's error handling restarts the engine the port serves the next command.
 */
class AhciDurabilityTest {
    static final int IMAGE = 1 << 20;
    static final int WRITE_DMA_EXT = 0x35, WRITE_DMA_FUA_EXT = 0x3d, READ_DMA_EXT = 0x25, FLUSH = 0xe7, FLUSH_EXT = 0xea;
    static final int WRITE_FPDMA = 0x61, READ_LOG_EXT = 0x2f, SET_FEATURES = 0xef, IDENTIFY = 0xec;
    static final int LBA = 0x40, FUA = 0x80;
    static final int OK = 0x50, ABORTED = 0x0441, UNCORRECTABLE = 0x4041;

    final RecordingBlockBackend disk = new RecordingBlockBackend(IMAGE, false);
    AhciTestDriver driver;

    @BeforeEach
    void start() {
        driver = new AhciTestDriver(new AtaDisk("disk", disk, AhciDriveOptions.parse(DriveKind.HD, "disk.img")));
        driver.resetAndStart(true);
    }

    @AfterEach
    void close() {
        driver.close();
    }

    static byte[] fill(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte) (seed + i * 13);
        return b;
    }

    int write(int opcode, long lba, int seed) {
        driver.memory.write(DATA, fill(4096, seed));
        return driver.run(0, commandFis(opcode, 0, lba, 8, LBA), null, true, 4096);
    }

    /** Runs a command and checks that a successful sync covering it ran between issue and completion. */
    int flushAndCheck(int opcode) {
        long issued = disk.now();
        int tfd = driver.run(0, commandFis(opcode, 0, 0, 0, 0), null, false, 0);
        long completed = disk.now();
        if (tfd == OK) disk.assertFlushCovered(String.format("FLUSH CACHE 0x%02x", opcode), issued, completed);
        return tfd;
    }

    @Test
    void flushCacheCompletesOnlyAfterASyncCoveringEveryEarlierWrite() {
        assertThat(write(WRITE_DMA_EXT, 8, 1)).isEqualTo(OK);
        assertThat(write(WRITE_DMA_EXT, 16, 2)).isEqualTo(OK);
        assertThat(disk.events(Op.SYNC)).as("write-back cache: a plain write is not synced").isEmpty();
        assertThat(flushAndCheck(FLUSH_EXT)).isEqualTo(OK);
        assertThat(write(WRITE_DMA_EXT, 24, 3)).isEqualTo(OK);
        assertThat(flushAndCheck(FLUSH)).isEqualTo(OK);
        byte[] crash = disk.durable();
        assertThat(Arrays.copyOfRange(crash, 8 * 512, 8 * 512 + 4096)).isEqualTo(fill(4096, 1));
        assertThat(Arrays.copyOfRange(crash, 24 * 512, 24 * 512 + 4096)).isEqualTo(fill(4096, 3));
    }

    @Test
    void fuaWritesAndWritesWithTheCacheOffAreDurableWhenTheyComplete() {
        byte[] id = identifyData();
        assertThat(word(id, 84) & 0x40).as("WRITE DMA FUA EXT supported").isNotZero();
        assertThat(word(id, 87) & 0x40).as("and enabled").isNotZero();

        assertThat(write(WRITE_DMA_FUA_EXT, 8, 1)).isEqualTo(OK);
        disk.assertWriteDurableAtCompletion("WRITE DMA FUA EXT", 8 * 512, disk.now());

        // WRITE FPDMA QUEUED: count in features, tag in count bits 7:3, FUA in device bit 7.
        driver.memory.write(0x30_0000, fill(4096, 2));
        driver.prepare(0, 1, commandFis(WRITE_FPDMA, 8, 40, 1 << 3, LBA | FUA), null, true, List.of(new Prd(0x30_0000, 4096)));
        driver.port(0, P_SACT, 1 << 1);
        driver.issueAndWait(0, 1 << 1);
        assertThat(driver.port(0, P_TFD)).isEqualTo(OK);
        disk.assertWriteDurableAtCompletion("WRITE FPDMA QUEUED with FUA", 40 * 512, disk.now());
        int syncs = disk.events(Op.SYNC).size();
        driver.prepare(0, 2, commandFis(WRITE_FPDMA, 8, 48, 2 << 3, LBA), null, true, List.of(new Prd(0x30_0000, 4096)));
        driver.port(0, P_SACT, 1 << 2);
        driver.issueAndWait(0, 1 << 2);
        assertThat(disk.events(Op.SYNC)).as("a queued write without FUA is not synced").hasSize(syncs);

        assertThat(driver.run(0, commandFis(SET_FEATURES, 0x82, 0, 0, 0), null, false, 0)).as("write cache off").isEqualTo(OK);
        assertThat(write(WRITE_DMA_EXT, 64, 3)).isEqualTo(OK);
        disk.assertWriteDurableAtCompletion("WRITE DMA EXT, write cache off", 64 * 512, disk.now());
        assertThat(Arrays.copyOfRange(disk.durable(), 64 * 512, 64 * 512 + 4096)).isEqualTo(fill(4096, 3));
    }

    byte[] identifyData() {
        assertThat(driver.run(0, commandFis(IDENTIFY, 0, 0, 0, 0), null, false, 512)).isEqualTo(OK);
        return driver.memory.readBytes(DATA, 512);
    }

    @Test
    void hostFailuresAreErrorsInTheTaskFileAndThePortGoesOnAfterRecovery() {
        disk.injectNext(Op.WRITE, Fault.enospc());
        assertThat(write(WRITE_DMA_EXT, 8, 1)).as("ENOSPC").isEqualTo(ABORTED);
        assertThat(driver.port(0, P_IS) & IS_TFES).isNotZero();
        driver.restartEngine(0);
        disk.injectNext(Op.WRITE, Fault.shortWrite(1024));
        assertThat(write(WRITE_DMA_EXT, 8, 2)).as("a write that landed in part").isEqualTo(ABORTED);
        driver.restartEngine(0);
        assertThat(write(WRITE_DMA_EXT, 8, 3)).as("the next write").isEqualTo(OK);
        disk.injectNext(Op.READ, Fault.eio());
        assertThat(driver.run(0, commandFis(READ_DMA_EXT, 0, 8, 8, LBA), null, false, 4096)).as("EIO on a read").isEqualTo(UNCORRECTABLE);
        driver.restartEngine(0);
        driver.memory.fill(DATA, 4096, (byte) 0);
        assertThat(driver.run(0, commandFis(READ_DMA_EXT, 0, 8, 8, LBA), null, false, 4096)).isEqualTo(OK);
        assertThat(driver.memory.readBytes(DATA, 4096)).isEqualTo(fill(4096, 3));

        disk.injectNext(Op.SYNC, Fault.eio());
        assertThat(flushAndCheck(FLUSH_EXT)).as("a failed sync aborts FLUSH CACHE EXT").isEqualTo(ABORTED);
        driver.restartEngine(0);
        disk.injectNext(Op.SYNC, Fault.eio());
        assertThat(write(WRITE_DMA_FUA_EXT, 16, 4)).as("a FUA write whose sync fails is not complete").isEqualTo(ABORTED);
        driver.restartEngine(0);
        assertThat(flushAndCheck(FLUSH_EXT)).isEqualTo(OK);
        assertThat(Arrays.copyOfRange(disk.durable(), 8 * 512, 8 * 512 + 4096)).isEqualTo(fill(4096, 3));
    }

    @Test
    void aFailedQueuedWriteIsInTheNcqErrorLogAndQueuedWritesWorkAfterIt() {
        disk.injectNext(Op.WRITE, Fault.enospc());
        driver.memory.write(0x30_0000, fill(4096, 5));
        driver.prepare(0, 4, commandFis(WRITE_FPDMA, 8, 80, 4 << 3, LBA), null, true, List.of(new Prd(0x30_0000, 4096)));
        driver.port(0, P_SACT, 1 << 4);
        driver.issueAndWait(0, 1 << 4);
        assertThat(driver.port(0, P_IS) & IS_TFES).isNotZero();
        assertThat(driver.port(0, P_TFD)).isEqualTo(ABORTED);
        driver.restartEngine(0);
        assertThat(driver.run(0, commandFis(READ_LOG_EXT, 0, 0x10, 1, 0), null, false, 512)).isEqualTo(OK);
        assertThat(driver.memory.readByte(DATA) & 0x1f).as("the failed tag").isEqualTo(4);
        driver.prepare(0, 4, commandFis(WRITE_FPDMA, 8, 80, 4 << 3, LBA), null, true, List.of(new Prd(0x30_0000, 4096)));
        driver.port(0, P_SACT, 1 << 4);
        driver.issueAndWait(0, 1 << 4);
        assertThat(driver.port(0, P_TFD)).isEqualTo(OK);
        assertThat(Arrays.copyOfRange(disk.contents(), 80 * 512, 80 * 512 + 4096)).isEqualTo(fill(4096, 5));
    }
}
