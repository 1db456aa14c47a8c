package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.ahci.AhciRegisters.*;
import static org.jhyve.devices.ahci.AhciTestDriver.DATA;
import static org.jhyve.devices.ahci.AhciTestDriver.commandFis;
import static org.jhyve.devices.ahci.AhciTestDriver.word;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.jhyve.devices.ahci.AhciTestDriver.Prd;
import org.jhyve.devices.block.FileBlockBackend;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ahci-hd: ATA commands against an image file, driven through the HBA as Linux's libata would. */
class AhciDiskTest {
    static final int IMAGE = 1 << 20, SECTORS = IMAGE / 512;
    static final int IDENTIFY = 0xec, READ_DMA_EXT = 0x25, WRITE_DMA_EXT = 0x35, READ_DMA = 0xc8, WRITE_DMA = 0xca;
    static final int READ_FPDMA = 0x60, WRITE_FPDMA = 0x61, FLUSH = 0xe7, FLUSH_EXT = 0xea, DSM = 0x06, SET_FEATURES = 0xef;
    static final int READ_LOG_EXT = 0x2f, CHECK_POWER_MODE = 0xe5, READ_VERIFY_EXT = 0x42, READ_SECTORS = 0x20, WRITE_SECTORS = 0x30;
    static final int LBA = 0x40;

    @TempDir
    Path dir;
    Path image;
    byte[] original;
    AhciTestDriver driver;

    AhciTestDriver start(String options) throws IOException {
        image = dir.resolve("disk.img");
        original = new byte[IMAGE];
        for (int i = 0; i < IMAGE; i++) original[i] = (byte) (i * 7 + i / 512);
        Files.write(image, original);
        AhciDriveOptions o = AhciDriveOptions.parse(DriveKind.HD, image + options);
        driver = new AhciTestDriver(new AtaDisk("disk", FileBlockBackend.open(image.toString(), o.readOnly(), false, false), o));
        driver.resetAndStart(true);
        return driver;
    }

    AhciTestDriver start(MemoryBlockBackend backend) {
        driver = new AhciTestDriver(new AtaDisk("disk", backend, AhciDriveOptions.parse(DriveKind.HD, "mem.img")));
        driver.resetAndStart(true);
        return driver;
    }

    @AfterEach
    void close() {
        if (driver != null) driver.close();
    }

    byte[] identify() {
        assertThat(driver.run(0, commandFis(IDENTIFY, 0, 0, 0, 0), null, false, 512)).isEqualTo(0x50);
        return driver.memory.readBytes(DATA, 512);
    }

    byte[] onDisk(long offset, int length) throws IOException {
        return Arrays.copyOfRange(Files.readAllBytes(image), (int) offset, (int) offset + length);
    }

    static byte[] fill(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte) (seed + i * 13);
        return b;
    }

    @Test
    void identifyDeviceDescribesTheImageAsAnLba48NcqDiskWithTrim() throws IOException {
        start(",serial=SN-1234");
        byte[] id = identify();
        assertThat(word(id, 0)).isEqualTo(0x0040);
        assertThat(word(id, 49)).isEqualTo(0x0b00);
        assertThat(word(id, 60) | word(id, 61) << 16).isEqualTo(SECTORS);
        assertThat(new int[] {word(id, 100), word(id, 101), word(id, 102), word(id, 103)}).containsExactly(SECTORS, 0, 0, 0);
        assertThat(word(id, 75)).as("queue depth 32").isEqualTo(31);
        assertThat(word(id, 76)).as("NCQ, Gen1-3").isEqualTo(0x010e);
        assertThat(word(id, 83)).as("LBA48, FLUSH CACHE (EXT)").isEqualTo(0x7400);
        assertThat(word(id, 85)).as("write cache enabled").isEqualTo(0x0068);
        assertThat(word(id, 86)).isEqualTo(0x3400);
        assertThat(word(id, 88)).as("UDMA 6 selected").isEqualTo(0x407f);
        assertThat(word(id, 93)).isZero();
        assertThat(word(id, 106)).isEqualTo(0x4000);
        assertThat(word(id, 169)).as("TRIM").isEqualTo(1);
        assertThat(word(id, 105)).isEqualTo(8);
        assertThat(word(id, 69)).isEqualTo(0x4020);
        assertThat(word(id, 217)).as("non-rotating").isEqualTo(1);
        // ATA strings: the first character of each pair is the high byte, so the raw bytes come swapped.
        assertThat(Arrays.copyOfRange(id, 20, 40)).isEqualTo("NS1-32 4            ".getBytes());
        assertThat(Arrays.copyOfRange(id, 54, 94)).isEqualTo("hjvy eAHDRIDKS                          ".getBytes());
        assertThat(AhciTestDriver.ataString(id, 10, 10)).isEqualTo("SN-1234");
        assertThat(AhciTestDriver.ataString(id, 27, 20)).isEqualTo("jhyve HARDDISK");
        assertThat(AhciTestDriver.ataString(id, 23, 4)).isEqualTo("1.0");
        // Integrity word: signature A5h, checksum making the 512 bytes sum to zero.
        assertThat(id[510] & 0xff).isEqualTo(0xa5);
        int sum = 0;
        for (byte b : id) sum += b & 0xff;
        assertThat(sum & 0xff).isZero();
        // PIO data-in: a PIO Setup FIS (device to host, interrupt) with E_Status, no D2H FIS.
        assertThat(driver.receivedFis(0, RFIS_PIO_SETUP, 20)).containsExactly(
                0x5f, 0x60, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x00, 0x02, 0, 0);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_PSS);
        assertThat(driver.port(0, P_CI)).isZero();
        assertThat(driver.prdbc(0, 0)).isEqualTo(512);
    }

    @Test
    void identifyReportsLogicalAndPhysicalSectorSizes() throws IOException {
        start(",sectorsize=4096");
        byte[] id = identify();
        assertThat(word(id, 100)).isEqualTo(IMAGE / 4096);
        assertThat(word(id, 106)).isEqualTo(0x5000);
        assertThat(word(id, 117) | word(id, 118) << 16).as("logical sector size in words").isEqualTo(2048);
        driver.close();
        start(",sectorsize=512/4096");
        id = identify();
        assertThat(word(id, 100)).isEqualTo(SECTORS);
        assertThat(word(id, 106)).isEqualTo(0x6003);
        assertThat(word(id, 209)).isEqualTo(0x4000);
        assertThat(word(id, 117)).isZero();
    }

    @Test
    void writeDmaExtReachesTheFileAndReadDmaExtReadsItBack() throws IOException {
        start("");
        byte[] data = fill(3 * 512, 0x11);
        driver.memory.write(DATA, data);
        assertThat(driver.run(0, commandFis(WRITE_DMA_EXT, 0, 5, 3, LBA), null, true, 3 * 512)).isEqualTo(0x50);
        assertThat(driver.prdbc(0, 0)).isEqualTo(1536);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS);
        assertThat(driver.receivedFis(0, RFIS_D2H, 4)).containsExactly(0x34, 0x40, 0x50, 0x00);
        assertThat(onDisk(5 * 512, 1536)).isEqualTo(data);
        assertThat(onDisk(4 * 512, 512)).isEqualTo(Arrays.copyOfRange(original, 4 * 512, 5 * 512));
        assertThat(onDisk(8 * 512, 512)).isEqualTo(Arrays.copyOfRange(original, 8 * 512, 9 * 512));

        driver.memory.fill(DATA, 5 * 512, (byte) 0);
        assertThat(driver.run(0, commandFis(READ_DMA_EXT, 0, 4, 5, LBA), null, false, 5 * 512)).isEqualTo(0x50);
        assertThat(driver.memory.readBytes(DATA, 5 * 512)).isEqualTo(onDisk(4 * 512, 5 * 512));
        assertThat(driver.prdbc(0, 0)).isEqualTo(5 * 512);
    }

    @Test
    void dataIsScatteredOverEveryPrdEntryInOrder() throws IOException {
        start("");
        List<Prd> prds = List.of(new Prd(0x30_0000, 700), new Prd(0x31_0000, 1000), new Prd(0x32_0000, 348));
        driver.prepare(0, 0, commandFis(READ_DMA_EXT, 0, 8, 4, LBA), null, false, prds);
        assertThat(driver.issue(0, 0)).isEqualTo(0x50);
        byte[] expected = Arrays.copyOfRange(original, 8 * 512, 12 * 512);
        assertThat(driver.memory.readBytes(0x30_0000, 700)).isEqualTo(Arrays.copyOfRange(expected, 0, 700));
        assertThat(driver.memory.readBytes(0x31_0000, 1000)).isEqualTo(Arrays.copyOfRange(expected, 700, 1700));
        assertThat(driver.memory.readBytes(0x32_0000, 348)).isEqualTo(Arrays.copyOfRange(expected, 1700, 2048));

        // And gathered from them for a write; a longer PRD table than needed is fine (the rest is unused).
        driver.memory.write(0x33_0000, fill(2, 1));
        driver.memory.write(0x34_0000, fill(1022, 2));
        driver.prepare(0, 1, commandFis(WRITE_DMA_EXT, 0, 30, 2, LBA), null, true,
                List.of(new Prd(0x33_0000, 2), new Prd(0x34_0000, 1022), new Prd(0x35_0000, 4096)));
        assertThat(driver.issue(0, 1)).isEqualTo(0x50);
        assertThat(driver.prdbc(0, 1)).isEqualTo(1024);
        byte[] written = onDisk(30 * 512, 1024);
        assertThat(Arrays.copyOfRange(written, 0, 2)).isEqualTo(fill(2, 1));
        assertThat(Arrays.copyOfRange(written, 2, 1024)).isEqualTo(fill(1022, 2));
    }

    @Test
    void twentyEightBitCommandsTakeLbaBitsFromTheDeviceRegisterAndCountZeroAs256() throws IOException {
        start("");
        assertThat(driver.run(0, commandFis(READ_DMA, 0, 0x12, 0, LBA), null, false, 256 * 512)).isEqualTo(0x50);
        assertThat(driver.memory.readBytes(DATA, 256 * 512)).isEqualTo(Arrays.copyOfRange(original, 0x12 * 512, (0x12 + 256) * 512));
        // Bits 27:24 of the LBA come from the device register: 0x1000012 is far past this disk.
        assertThat(driver.run(0, commandFis(READ_DMA, 0, 0x12, 1, LBA | 0x1), null, false, 512)).isEqualTo(0x1041);
        driver.restartEngine(0);
        driver.memory.write(DATA, fill(512, 9));
        assertThat(driver.run(0, commandFis(WRITE_DMA, 0, 7, 1, LBA), null, true, 512)).isEqualTo(0x50);
        assertThat(onDisk(7 * 512, 512)).isEqualTo(fill(512, 9));
    }

    @Test
    void pioReadAndWriteSectorsMoveDataToo() throws IOException {
        start("");
        assertThat(driver.run(0, commandFis(READ_SECTORS, 0, 3, 1, LBA), null, false, 512)).isEqualTo(0x50);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_PSS);
        assertThat(driver.memory.readBytes(DATA, 512)).isEqualTo(Arrays.copyOfRange(original, 3 * 512, 4 * 512));
        driver.acknowledge(0);
        driver.memory.write(DATA, fill(512, 5));
        assertThat(driver.run(0, commandFis(WRITE_SECTORS, 0, 3, 1, LBA), null, true, 512)).isEqualTo(0x50);
        assertThat(driver.port(0, P_IS)).as("PIO out ends with an interrupting D2H FIS").isEqualTo(IS_DHRS);
        assertThat(driver.receivedFis(0, RFIS_PIO_SETUP, 2)).containsExactly(0x5f, 0x00);
        assertThat(onDisk(3 * 512, 512)).isEqualTo(fill(512, 5));
    }

    @Test
    void fpdmaQueuedCommandsInSeveralSlotsRunTogetherAndEachCompletesThroughASetDeviceBitsFis() throws IOException {
        start("");
        driver.memory.write(0x30_0000, fill(1024, 0x21));
        driver.memory.write(0x31_0000, fill(512, 0x42));
        // Tag in count bits 7:3, sector count in features, LBA mode in the device register. Queued commands have
        // no order among themselves, so the read is of sectors neither write touches.
        driver.prepare(0, 0, commandFis(WRITE_FPDMA, 2, 100, 0 << 3, LBA), null, true, List.of(new Prd(0x30_0000, 1024)));
        driver.prepare(0, 1, commandFis(WRITE_FPDMA, 1, 200, 1 << 3, LBA), null, true, List.of(new Prd(0x31_0000, 512)));
        driver.prepare(0, 2, commandFis(READ_FPDMA, 2, 300, 2 << 3, LBA), null, false, List.of(new Prd(0x32_0000, 512), new Prd(0x33_0000, 512)));
        driver.port(0, P_SACT, 0b111);
        assertThat(driver.port(0, P_SACT)).isEqualTo(0b111);
        driver.issueAndWait(0, 0b111);
        assertThat(driver.port(0, P_CI)).isZero();
        assertThat(driver.port(0, P_SACT)).isZero();
        assertThat(driver.port(0, P_TFD)).isEqualTo(0x50);
        assertThat(driver.port(0, P_IS)).as("the accepting D2H FISes do not interrupt").isEqualTo(IS_SDBS);
        byte[] sdb = driver.receivedFis(0, RFIS_SDB, 8);
        assertThat(Arrays.copyOfRange(sdb, 0, 4)).containsExactly(0xa1, 0x40, 0x50, 0x00);
        int tags = java.nio.ByteBuffer.wrap(sdb, 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        assertThat(tags).as("the last Set Device Bits FIS completes some of the three tags").isNotZero().isEqualTo(tags & 0b111);
        assertThat(driver.receivedFis(0, RFIS_D2H, 4)).containsExactly(0x34, 0x00, 0x50, 0x00);
        assertThat(onDisk(100 * 512, 1024)).isEqualTo(fill(1024, 0x21));
        assertThat(onDisk(200 * 512, 512)).isEqualTo(fill(512, 0x42));
        assertThat(driver.memory.readBytes(0x32_0000, 512)).isEqualTo(onDisk(300 * 512, 512));
        assertThat(driver.memory.readBytes(0x33_0000, 512)).isEqualTo(onDisk(301 * 512, 512));
        assertThat(driver.prdbc(0, 0)).as("PRDBC is not used for queued commands").isEqualTo(0x7777_7777);
        assertThat(driver.machine.irqEvents()).containsExactly("21+");
    }

    @Test
    void aFailedQueuedCommandIsReportedInTheNcqErrorLogUntilRead() throws IOException {
        start("");
        driver.prepare(0, 3, commandFis(READ_FPDMA, 2, SECTORS - 1, 3 << 3, LBA), null, false, List.of(new Prd(0x30_0000, 1024)));
        driver.port(0, P_SACT, 0b1000);
        driver.issueAndWait(0, 0b1000);
        driver.settle(0);
        // After the failure the port takes no new command until the engine restarts.
        driver.prepare(0, 4, commandFis(READ_FPDMA, 1, 0, 4 << 3, LBA), null, false, List.of(new Prd(0x31_0000, 512)));
        driver.port(0, P_SACT, 0b10000);
        driver.port(0, P_CI, 0b10000);
        driver.settle(0);
        // Slot 3 was accepted (its CI bit cleared) and failed: its SACT bit stays; slot 4 was never started.
        assertThat(driver.port(0, P_CI)).isEqualTo(0b10000);
        assertThat(driver.port(0, P_SACT)).isEqualTo(0b11000);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_SDBS | IS_TFES);
        assertThat(driver.port(0, P_TFD)).isEqualTo(0x1041);
        assertThat(driver.receivedFis(0, RFIS_SDB, 8)).containsExactly(0xa1, 0x40, 0x41, 0x10, 0, 0, 0, 0);

        // libata's EH: stop and start the engine; queued commands are refused until log 10h is read.
        driver.restartEngine(0);
        assertThat(driver.port(0, P_SACT)).isZero();
        assertThat(driver.port(0, P_CI)).isZero();
        driver.port(0, P_SACT, 1);
        driver.prepare(0, 0, commandFis(READ_FPDMA, 1, 0, 0, LBA), null, false, List.of(new Prd(0x31_0000, 512)));
        assertThat(driver.issue(0, 0)).isEqualTo(0x0441);
        driver.restartEngine(0);

        assertThat(driver.run(0, commandFis(READ_LOG_EXT, 0, 0x10, 1, 0), null, false, 512)).isEqualTo(0x50);
        byte[] log = driver.memory.readBytes(DATA, 512);
        assertThat(Arrays.copyOfRange(log, 0, 14)).containsExactly(0x03, 0, 0x41, 0x10, 0xff, 0x07, 0, LBA, 0, 0, 0, 0, 3 << 3, 0);
        int sum = 0;
        for (byte b : log) sum += b;
        assertThat(sum & 0xff).as("checksum").isZero();
        // Read again: no queued error any more (NQ).
        driver.run(0, commandFis(READ_LOG_EXT, 0, 0x10, 1, 0), null, false, 512);
        assertThat(driver.memory.readByte(DATA) & 0xff).isEqualTo(0x80);

        driver.port(0, P_SACT, 1);
        driver.prepare(0, 0, commandFis(READ_FPDMA, 1, 0, 0, LBA), null, false, List.of(new Prd(0x31_0000, 512)));
        assertThat(driver.issue(0, 0)).isEqualTo(0x50);
        assertThat(driver.memory.readBytes(0x31_0000, 512)).isEqualTo(Arrays.copyOfRange(original, 0, 512));
    }

    @Test
    void logDirectoryListsTheNcqErrorLog() throws IOException {
        start("");
        assertThat(driver.run(0, commandFis(READ_LOG_EXT, 0, 0x00, 1, 0), null, false, 512)).isEqualTo(0x50);
        byte[] dir = driver.memory.readBytes(DATA, 512);
        assertThat(word(dir, 0)).isEqualTo(1);
        assertThat(word(dir, 0x10)).isEqualTo(1);
        assertThat(word(dir, 0x30)).isZero();
        assertThat(driver.run(0, commandFis(READ_LOG_EXT, 0, 0x30, 1, 0), null, false, 512)).as("a log we lack").isEqualTo(0x0441);
    }

    @Test
    void flushReachesTheBackendAndDisablingTheWriteCacheMakesWritesDurable() {
        MemoryBlockBackend backend = new MemoryBlockBackend(IMAGE, false);
        start(backend);
        assertThat(driver.run(0, commandFis(FLUSH, 0, 0, 0, 0), null, false, 0)).isEqualTo(0x50);
        assertThat(driver.run(0, commandFis(FLUSH_EXT, 0, 0, 0, 0), null, false, 0)).isEqualTo(0x50);
        assertThat(backend.flushes.get()).isEqualTo(2);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS);
        driver.run(0, commandFis(WRITE_DMA_EXT, 0, 0, 1, LBA), null, true, 512);
        assertThat(backend.flushes.get()).as("write-back cache: no flush per write").isEqualTo(2);

        assertThat(driver.run(0, commandFis(SET_FEATURES, 0x82, 0, 0, 0), null, false, 0)).isEqualTo(0x50);
        assertThat(backend.flushes.get()).isEqualTo(3);
        assertThat(word(identify(), 85) & 0x20).isZero();
        driver.run(0, commandFis(WRITE_DMA_EXT, 0, 0, 1, LBA), null, true, 512);
        assertThat(backend.flushes.get()).isEqualTo(4);
        assertThat(driver.run(0, commandFis(SET_FEATURES, 0x02, 0, 0, 0), null, false, 0)).isEqualTo(0x50);
        assertThat(word(identify(), 85) & 0x20).isEqualTo(0x20);

        backend.failIo = true;
        assertThat(driver.run(0, commandFis(FLUSH_EXT, 0, 0, 0, 0), null, false, 0)).as("a failed fdatasync aborts").isEqualTo(0x0441);
    }

    @Test
    void trimPunchesAHoleInTheImage() throws Exception {
        start("");
        long blocksBefore = allocatedBlocks(image);
        // One DSM payload block: LBA 256, 512 sectors (256 KiB from offset 128 KiB), then an unused entry.
        byte[] payload = new byte[512];
        java.nio.ByteBuffer.wrap(payload).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 256L | 512L << 48);
        driver.memory.write(DATA, payload);
        assertThat(driver.run(0, commandFis(DSM, 1, 0, 1, LBA), null, true, 512)).isEqualTo(0x50);
        assertThat(driver.prdbc(0, 0)).isEqualTo(512);
        byte[] after = Files.readAllBytes(image);
        assertThat(Arrays.copyOfRange(after, 128 << 10, 384 << 10)).isEqualTo(new byte[256 << 10]);
        assertThat(Arrays.copyOfRange(after, 0, 128 << 10)).isEqualTo(Arrays.copyOfRange(original, 0, 128 << 10));
        assertThat(Arrays.copyOfRange(after, 384 << 10, IMAGE)).isEqualTo(Arrays.copyOfRange(original, 384 << 10, IMAGE));
        assertThat(allocatedBlocks(image)).as("256 KiB fewer 512-byte blocks allocated").isLessThanOrEqualTo(blocksBefore - 512);

        // A range past the end refuses the whole command.
        java.nio.ByteBuffer.wrap(payload).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 0L | 1L << 48).putLong(8, (long) SECTORS | 1L << 48);
        driver.memory.write(DATA, payload);
        driver.restartEngine(0);
        assertThat(driver.run(0, commandFis(DSM, 1, 0, 1, LBA), null, true, 512)).isEqualTo(0x0441);
        assertThat(Files.readAllBytes(image)[0]).isEqualTo(original[0]);
    }

    static long allocatedBlocks(Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertThat(p.waitFor()).isZero();
        return Long.parseLong(out);
    }

    @Test
    void nodeleteTakesTrimAway() throws IOException {
        start(",nodelete");
        byte[] id = identify();
        assertThat(word(id, 169)).as("no TRIM in IDENTIFY").isZero();
        assertThat(word(id, 105)).as("no DSM blocks").isZero();
    }

    @Test
    void aReadOnlyDiskRefusesWritesAndTrimButReads() throws IOException {
        start(",ro");
        byte[] id = identify();
        assertThat(word(id, 169)).isZero();
        assertThat(word(id, 105)).isZero();
        driver.acknowledge(0);
        driver.memory.write(DATA, fill(512, 3));
        assertThat(driver.run(0, commandFis(WRITE_DMA_EXT, 0, 0, 1, LBA), null, true, 512)).isEqualTo(0x0441);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS | IS_TFES);
        assertThat(driver.port(0, P_CI)).as("a failed command keeps its CI bit").isEqualTo(1);
        assertThat(driver.receivedFis(0, RFIS_D2H, 4)).containsExactly(0x34, 0x40, 0x41, 0x04);
        // The port is halted until the engine restarts.
        driver.prepare(0, 1, commandFis(READ_DMA_EXT, 0, 0, 1, LBA), null, false, List.of(new Prd(DATA, 512)));
        driver.port(0, P_CI, 2);
        driver.settle(0);
        assertThat(driver.port(0, P_CI)).isEqualTo(3);
        driver.restartEngine(0);
        assertThat(driver.port(0, P_CI)).isZero();
        payloadTrim();
        assertThat(driver.port(0, P_TFD)).isEqualTo(0x0441);
        driver.restartEngine(0);
        assertThat(driver.run(0, commandFis(READ_DMA_EXT, 0, 0, 1, LBA), null, false, 512)).isEqualTo(0x50);
        assertThat(driver.memory.readBytes(DATA, 512)).isEqualTo(Arrays.copyOfRange(original, 0, 512));
        assertThat(Files.readAllBytes(image)).isEqualTo(original);
    }

    private void payloadTrim() {
        byte[] payload = new byte[512];
        payload[0] = 1;
        payload[6] = 1; // LBA 1, one sector
        driver.memory.write(DATA, payload);
        driver.run(0, commandFis(DSM, 1, 0, 1, LBA), null, true, 512);
    }

    @Test
    void lbaRangesPastTheEndGetIdnf() throws IOException {
        start("");
        assertThat(driver.run(0, commandFis(READ_DMA_EXT, 0, SECTORS - 1, 2, LBA), null, false, 1024)).isEqualTo(0x1041);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS | IS_TFES);
        assertThat(driver.receivedFis(0, RFIS_D2H, 8)).containsExactly(0x34, 0x40, 0x41, 0x10, 0xff, 0x07, 0x00, 0x00);
        driver.restartEngine(0);
        // The largest LBA and count LBA48 can say: no overflow, just IDNF.
        assertThat(driver.run(0, commandFis(READ_DMA_EXT, 0, 0xffff_ffff_ffffL, 0, LBA), null, false, 512)).isEqualTo(0x1041);
        driver.restartEngine(0);
        assertThat(driver.run(0, commandFis(READ_VERIFY_EXT, 0, SECTORS, 1, LBA), null, false, 0)).isEqualTo(0x1041);
        driver.restartEngine(0);
        assertThat(driver.run(0, commandFis(READ_VERIFY_EXT, 0, SECTORS - 1, 1, LBA), null, false, 0)).isEqualTo(0x50);
        // The last sector is readable.
        assertThat(driver.run(0, commandFis(READ_DMA_EXT, 0, SECTORS - 1, 1, LBA), null, false, 512)).isEqualTo(0x50);
        assertThat(driver.memory.readBytes(DATA, 512)).isEqualTo(Arrays.copyOfRange(original, IMAGE - 512, IMAGE));
    }

    @Test
    void powerAndFeatureCommandsAnswerAndUnknownOnesAbort() throws IOException {
        start("");
        assertThat(driver.run(0, commandFis(CHECK_POWER_MODE, 0, 0, 0, 0), null, false, 0)).isEqualTo(0x50);
        assertThat(driver.receivedFis(0, RFIS_D2H + 12, 1)[0] & 0xff).as("active or idle").isEqualTo(0xff);
        assertThat(driver.run(0, commandFis(0xe1, 0, 0, 0, 0), null, false, 0)).as("IDLE IMMEDIATE").isEqualTo(0x50);
        assertThat(driver.run(0, commandFis(0xe0, 0, 0, 0, 0), null, false, 0)).as("STANDBY IMMEDIATE").isEqualTo(0x50);
        assertThat(driver.run(0, commandFis(SET_FEATURES, 0x03, 0, 0x45, 0), null, false, 0)).as("UDMA 5").isEqualTo(0x50);
        assertThat(word(identify(), 88)).isEqualTo(0x207f);
        assertThat(driver.run(0, commandFis(SET_FEATURES, 0x03, 0, 0x22, 0), null, false, 0)).as("MWDMA 2").isEqualTo(0x50);
        byte[] id = identify();
        assertThat(word(id, 63)).isEqualTo(0x0407);
        assertThat(word(id, 88)).isEqualTo(0x007f);
        assertThat(driver.run(0, commandFis(SET_FEATURES, 0x03, 0, 0x47, 0), null, false, 0)).as("no UDMA 7").isEqualTo(0x0441);
        driver.restartEngine(0);
        assertThat(driver.run(0, commandFis(SET_FEATURES, 0x10, 0, 0x02, 0), null, false, 0)).as("SATA features").isEqualTo(0x0441);
        driver.restartEngine(0);
        assertThat(driver.run(0, commandFis(0xb0, 0xd0, 0xc24f00, 0, 0), null, false, 512)).as("SMART").isEqualTo(0x0441);
        driver.restartEngine(0);
        assertThat(driver.run(0, commandFis(0xa1, 0, 0, 0, 0), null, false, 512)).as("IDENTIFY PACKET DEVICE").isEqualTo(0x0441);
    }
}
