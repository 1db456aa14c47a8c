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
import org.jhyve.devices.block.FileBlockBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ahci-cd: ATAPI identification and the SCSI/MMC commands over PACKET, against an ISO-like image file. */
class AhciCdromTest {
    static final int BLOCKS = 10, PACKET = 0xa0;
    static final int CHECK_CONDITION_ILLEGAL_REQUEST = 0x5041, GOOD = 0x50;

    @TempDir
    Path dir;
    byte[] iso;
    AhciTestDriver driver;

    AhciTestDriver start(int blocks) throws IOException {
        Path image = dir.resolve("x.iso");
        iso = new byte[blocks * 2048];
        for (int i = 0; i < iso.length; i++) iso[i] = (byte) (i / 2048 * 31 + i);
        Files.write(image, iso);
        AhciDriveOptions o = AhciDriveOptions.parse(DriveKind.CD, image.toString());
        driver = new AhciTestDriver(new AtapiCdrom("cd", FileBlockBackend.open(image.toString(), true, false, false), o));
        driver.resetAndStart(true);
        return driver;
    }

    @AfterEach
    void close() {
        if (driver != null) driver.close();
    }

    /** Runs a SCSI command through PACKET with a {@code length}-byte buffer at DATA; returns PxTFD. */
    int scsi(int length, int... cdb) {
        byte[] packet = new byte[16];
        for (int i = 0; i < cdb.length; i++) packet[i] = (byte) cdb[i];
        // DMA bit in the features register, the byte count limit in LBA mid/high, as libata sends them.
        return driver.run(0, commandFis(PACKET, 0x01, 0xfffe00, 0, 0), packet, false, length);
    }

    byte[] data(int length) {
        return driver.memory.readBytes(DATA, length);
    }

    @Test
    void identifyDeviceAbortsWithTheAtapiSignatureAndIdentifyPacketDeviceAnswers() throws IOException {
        start(BLOCKS);
        assertThat(driver.port(0, P_SIG)).isEqualTo(0xeb14_0101);
        assertThat(driver.run(0, commandFis(0xec, 0, 0, 0, 0), null, false, 512)).isEqualTo(0x0441);
        assertThat(driver.receivedFis(0, RFIS_D2H, 14)).containsExactly(0x34, 0x40, 0x41, 0x04, 0x01, 0x14, 0xeb, 0, 0, 0, 0, 0, 0x01, 0);
        driver.restartEngine(0);
        assertThat(driver.run(0, commandFis(0xa1, 0, 0, 0, 0), null, false, 512)).isEqualTo(GOOD);
        byte[] id = data(512);
        assertThat(word(id, 0)).as("ATAPI CD-ROM, removable, 12-byte packets").isEqualTo(0x85c0);
        assertThat(word(id, 82) & 0x10).as("PACKET feature set").isEqualTo(0x10);
        assertThat(AhciTestDriver.ataString(id, 27, 20)).isEqualTo("jhyve CD-ROM");
        assertThat(AhciTestDriver.ataString(id, 10, 10)).matches("JHYVE-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}");
        assertThat(driver.port(0, P_IS) & IS_PSS).isEqualTo(IS_PSS);
    }

    @Test
    void inquiryDescribesARemovableCdRom() throws IOException {
        start(BLOCKS);
        assertThat(scsi(96, 0x12, 0, 0, 0, 96, 0)).isEqualTo(GOOD);
        byte[] expected = new byte[36];
        System.arraycopy(new byte[] {0x05, (byte) 0x80, 0x05, 0x02, 31}, 0, expected, 0, 5);
        System.arraycopy("jhyve   CD-ROM          1.0 ".getBytes(), 0, expected, 8, 28);
        assertThat(data(36)).isEqualTo(expected);
        assertThat(driver.prdbc(0, 0)).as("only the 36 bytes there are").isEqualTo(36);
        // The D2H FIS ends the packet command: status DRDY DSC, interrupt reason C/D and I/O.
        assertThat(driver.receivedFis(0, RFIS_D2H + 12, 1)[0]).isEqualTo((byte) 3);
        // An allocation length shorter than the data cuts it.
        driver.memory.fill(DATA, 64, (byte) 0x77);
        assertThat(scsi(96, 0x12, 0, 0, 0, 5, 0)).isEqualTo(GOOD);
        assertThat(data(6)).containsExactly(0x05, 0x80, 0x05, 0x02, 31, 0x77);
        // EVPD page 0 lists only itself; other pages are refused.
        assertThat(scsi(96, 0x12, 1, 0, 0, 96, 0)).isEqualTo(GOOD);
        assertThat(data(5)).containsExactly(0x05, 0, 0, 1, 0);
        assertThat(scsi(96, 0x12, 1, 0x83, 0, 96, 0)).isEqualTo(CHECK_CONDITION_ILLEGAL_REQUEST);
    }

    @Test
    void readCapacityAndReadTenAndTwelveServeTheImage() throws IOException {
        start(BLOCKS);
        assertThat(scsi(0, 0x00)).as("TEST UNIT READY").isEqualTo(GOOD);
        assertThat(scsi(8, 0x25)).isEqualTo(GOOD);
        assertThat(data(8)).containsExactly(0, 0, 0, BLOCKS - 1, 0, 0, 0x08, 0x00);
        assertThat(scsi(3 * 2048, 0x28, 0, 0, 0, 0, 2, 0, 0, 3, 0)).isEqualTo(GOOD);
        assertThat(data(3 * 2048)).isEqualTo(Arrays.copyOfRange(iso, 2 * 2048, 5 * 2048));
        assertThat(driver.prdbc(0, 0)).isEqualTo(3 * 2048);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS);
        assertThat(scsi(2048, 0xa8, 0, 0, 0, 0, BLOCKS - 1, 0, 0, 0, 1, 0, 0)).isEqualTo(GOOD);
        assertThat(data(2048)).isEqualTo(Arrays.copyOfRange(iso, (BLOCKS - 1) * 2048, BLOCKS * 2048));
        assertThat(scsi(0, 0x28, 0, 0, 0, 0, 2, 0, 0, 0, 0)).as("zero blocks").isEqualTo(GOOD);
    }

    @Test
    void refusedCommandsLeaveSenseDataForRequestSense() throws IOException {
        start(BLOCKS);
        assertThat(scsi(0, 0xff)).as("no such opcode").isEqualTo(CHECK_CONDITION_ILLEGAL_REQUEST);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS | IS_TFES);
        assertThat(driver.port(0, P_CI)).isEqualTo(1);
        driver.restartEngine(0);
        assertThat(scsi(18, 0x03, 0, 0, 0, 18, 0)).isEqualTo(GOOD);
        assertThat(data(18)).containsExactly(0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0x00, 0, 0, 0, 0);
        // REQUEST SENSE consumed it.
        assertThat(scsi(18, 0x03, 0, 0, 0, 18, 0)).isEqualTo(GOOD);
        assertThat(data(18)[2]).isZero();

        assertThat(scsi(2048, 0x28, 0, 0, 0, 0, BLOCKS, 0, 0, 1, 0)).as("past the end").isEqualTo(CHECK_CONDITION_ILLEGAL_REQUEST);
        driver.restartEngine(0);
        scsi(18, 0x03, 0, 0, 0, 18, 0);
        assertThat(data(14)).endsWith(0x21, 0x00);

        assertThat(scsi(2048, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0)).as("WRITE(10): DATA PROTECT").isEqualTo(0x7041);
        driver.restartEngine(0);
        scsi(18, 0x03, 0, 0, 0, 18, 0);
        assertThat(data(14)).containsExactly(0x70, 0, 0x07, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x27, 0x00);
    }

    @Test
    void modeSenseReturnsTheCapabilitiesPageAndAllPages() throws IOException {
        start(BLOCKS);
        assertThat(scsi(128, 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128, 0)).isEqualTo(GOOD);
        byte[] d = data(30);
        assertThat(Arrays.copyOfRange(d, 0, 8)).containsExactly(0, 28, 0, 0, 0, 0, 0, 0);
        assertThat(d[8]).isEqualTo((byte) 0x2a);
        assertThat(d[9]).isEqualTo((byte) 20);
        assertThat(d[14] & 0x29).as("tray, eject, lock").isEqualTo(0x29);
        assertThat(driver.prdbc(0, 0)).isEqualTo(30);
        assertThat(scsi(128, 0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 128, 0)).isEqualTo(GOOD);
        d = data(42);
        assertThat(Arrays.copyOfRange(d, 0, 2)).containsExactly(0, 40);
        assertThat(Arrays.copyOfRange(d, 8, 12)).containsExactly(0x01, 10, 0, 5);
        assertThat(Arrays.copyOfRange(d, 20, 22)).containsExactly(0x2a, 20);
        // Changeable values: nothing is.
        assertThat(scsi(128, 0x5a, 0, 0x40 | 0x2a, 0, 0, 0, 0, 0, 128, 0)).isEqualTo(GOOD);
        assertThat(Arrays.copyOfRange(data(30), 10, 30)).isEqualTo(new byte[20]);
        assertThat(scsi(128, 0x5a, 0, 0x05, 0, 0, 0, 0, 0, 128, 0)).as("write parameters page").isEqualTo(CHECK_CONDITION_ILLEGAL_REQUEST);
        driver.restartEngine(0);
        assertThat(scsi(128, 0x5a, 0, 0xc0 | 0x2a, 0, 0, 0, 0, 0, 128, 0)).as("saved values").isEqualTo(CHECK_CONDITION_ILLEGAL_REQUEST);
        driver.restartEngine(0);
        assertThat(scsi(64, 0x1a, 0, 0x2a, 0, 64, 0)).as("MODE SENSE(6)").isEqualTo(GOOD);
        assertThat(data(5)).containsExactly(25, 0, 0, 0, 0x2a);
    }

    @Test
    void readTocListsTheDataTrackAndTheLeadOut() throws IOException {
        start(BLOCKS);
        assertThat(scsi(100, 0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0)).isEqualTo(GOOD);
        assertThat(data(20)).containsExactly(0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xaa, 0, 0, 0, 0, BLOCKS);
        // MSF addresses count the 150-frame pre-gap: LBA 0 is 00:02:00, LBA 10 is 00:02:10.
        assertThat(scsi(100, 0x43, 0x02, 0, 0, 0, 0, 0, 0, 100, 0)).isEqualTo(GOOD);
        assertThat(data(20)).containsExactly(0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 2, 0, 0, 0x14, 0xaa, 0, 0, 0, 2, BLOCKS);
        // From the lead-out only; format 1 (session info) asked for the SFF-8020 way, in byte 9.
        assertThat(scsi(100, 0x43, 0, 0, 0, 0, 0, 0xaa, 0, 100, 0)).isEqualTo(GOOD);
        assertThat(data(12)).containsExactly(0, 10, 1, 1, 0, 0x14, 0xaa, 0, 0, 0, 0, BLOCKS);
        assertThat(scsi(12, 0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40)).isEqualTo(GOOD);
        assertThat(data(12)).containsExactly(0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0);
        assertThat(scsi(100, 0x43, 0, 2, 0, 0, 0, 0, 0, 100, 0)).as("full TOC").isEqualTo(CHECK_CONDITION_ILLEGAL_REQUEST);
    }

    @Test
    void configurationEventsAndMechanismDescribeADiscInATray() throws IOException {
        start(BLOCKS);
        assertThat(scsi(64, 0x46, 0x02, 0, 0, 0, 0, 0, 0, 64, 0)).as("profile list only").isEqualTo(GOOD);
        assertThat(data(16)).containsExactly(0, 0, 0, 12, 0, 0, 0, 0x08, 0, 0, 0x03, 4, 0, 0x08, 0x01, 0);
        assertThat(scsi(256, 0x46, 0x00, 0, 0, 0, 0, 0, 1, 0, 0)).isEqualTo(GOOD);
        byte[] all = data(256);
        assertThat(all[3] & 0xff).as("six features").isEqualTo(4 + 8 + 12 + 8 + 8 + 12 + 8);
        // GET EVENT STATUS NOTIFICATION (polled, media class): new media once, then no change.
        assertThat(scsi(8, 0x4a, 0x01, 0, 0, 0x10, 0, 0, 0, 8, 0)).isEqualTo(GOOD);
        assertThat(data(8)).containsExactly(0, 6, 0x04, 0x10, 0x02, 0x02, 0, 0);
        assertThat(scsi(8, 0x4a, 0x01, 0, 0, 0x10, 0, 0, 0, 8, 0)).isEqualTo(GOOD);
        assertThat(data(8)).containsExactly(0, 6, 0x04, 0x10, 0x00, 0x02, 0, 0);
        assertThat(scsi(8, 0x4a, 0x00, 0, 0, 0x10, 0, 0, 0, 8, 0)).as("asynchronous").isEqualTo(CHECK_CONDITION_ILLEGAL_REQUEST);
        driver.restartEngine(0);
        driver.memory.fill(DATA, 8, (byte) 0x55);
        assertThat(scsi(8, 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8)).isEqualTo(GOOD);
        assertThat(data(8)).isEqualTo(new byte[8]);
        // Lock the tray: an eject is refused; unlocked it is accepted.
        assertThat(scsi(0, 0x1e, 0, 0, 0, 1, 0)).isEqualTo(GOOD);
        assertThat(scsi(0, 0x1b, 0, 0, 0, 0x02, 0)).isEqualTo(CHECK_CONDITION_ILLEGAL_REQUEST);
        driver.restartEngine(0);
        assertThat(scsi(0, 0x1e, 0, 0, 0, 0, 0)).isEqualTo(GOOD);
        assertThat(scsi(0, 0x1b, 0, 0, 0, 0x02, 0)).isEqualTo(GOOD);
    }

    @Test
    void anEmptyImageIsADriveWithoutMedium() throws IOException {
        start(0);
        assertThat(scsi(0, 0x00)).isEqualTo(0x2041);
        driver.restartEngine(0);
        scsi(18, 0x03, 0, 0, 0, 18, 0);
        assertThat(data(14)).containsExactly(0x70, 0, 0x02, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x3a, 0x00);
        assertThat(scsi(8, 0x25)).isEqualTo(0x2041);
        driver.restartEngine(0);
        assertThat(scsi(36, 0x12, 0, 0, 0, 36, 0)).as("INQUIRY needs no medium").isEqualTo(GOOD);
        assertThat(scsi(64, 0x46, 0x02, 0, 0, 0, 0, 0, 0, 64, 0)).isEqualTo(GOOD);
        assertThat(data(8)).as("no current profile").containsExactly(0, 0, 0, 12, 0, 0, 0, 0);
    }

    @Test
    void ataCommandsAnAtapiDeviceTakes() throws IOException {
        start(BLOCKS);
        assertThat(driver.run(0, commandFis(0xef, 0x03, 0, 0x44, 0), null, false, 0)).as("SET FEATURES UDMA 4").isEqualTo(GOOD);
        assertThat(driver.run(0, commandFis(0xe5, 0, 0, 0, 0), null, false, 0)).isEqualTo(GOOD);
        assertThat(driver.run(0, commandFis(0x08, 0, 0, 0, 0), null, false, 0)).as("DEVICE RESET: signature, DRDY clear").isEqualTo(0x0100);
        assertThat(driver.run(0, commandFis(0x25, 0, 0, 1, 0x40), null, false, 512)).as("READ DMA EXT").isEqualTo(0x0441);
    }
}
