package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * AHCI end to end with a driver that is not Linux: guests/src/main/c/ahci.c finds every AHCI HBA on PCI by its
 * class, sets up each port's command list, received-FIS area and command tables, and drives a disk (IDENTIFY,
 * a 1 MiB DMA read, two NCQ reads at once, a scattered DMA write and FLUSH) and a CD-ROM (IDENTIFY PACKET,
 * INQUIRY, READ CAPACITY, the ISO 9660 volume descriptor, root directory and a file, an unknown SCSI opcode
 * and REQUEST SENSE) through the registers, polling. On both it sends a PRD entry outside guest RAM and
 * recovers the port. The host checks the checksums and the image file.
 */
@Timeout(180)
class AhciGuestTest {
    static final int DISK_BYTES = 16 << 20, SECTOR = 512;
    static final int READ_LBA = 2048, READ_BYTES = 1 << 20;
    static final int WRITE_LBA = 4096, WRITE_BYTES = 128 << 10;
    static final int FILE_BYTES = 300_000;

    @TempDir
    Path dir;

    byte[] original, file;
    Path disk, iso;

    @BeforeEach // per test, so that a skip is reported on each test with its reason
    void kvm() {
        GuestImages.assumeKvm();
    }

    void images() throws Exception {
        original = new byte[DISK_BYTES];
        new Random(1234).nextBytes(original);
        disk = Files.write(dir.resolve("disk.img"), original);
        Path content = Files.createDirectories(dir.resolve("iso-content"));
        file = new byte[FILE_BYTES];
        new Random(5678).nextBytes(file);
        Files.write(content.resolve("data.bin"), file);
        iso = DiskImages.iso(dir.resolve("x.iso"), content);
    }

    static byte[] pattern() {
        byte[] p = new byte[WRITE_BYTES];
        for (int i = 0; i < p.length; i++) p[i] = (byte) (i * 7 + 3);
        return p;
    }

    String[] args(String... slots) {
        String[] head = {"-m", "64M", "-s", "0:0,hostbridge"};
        String[] tail = {"-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + GuestImages.extract(dir, "ahci.elf")};
        String[] all = Arrays.copyOf(head, head.length + slots.length + tail.length);
        System.arraycopy(slots, 0, all, head.length, slots.length);
        System.arraycopy(tail, 0, all, head.length + slots.length, tail.length);
        return all;
    }

    /** The ISO's size in 2048-byte blocks, as READ CAPACITY must report it. */
    long isoBlocks() throws Exception {
        return Files.size(iso) / 2048;
    }

    String diskLines(String write) {
        return String.join("\r\n",
                "disk model=jhyve HARDDISK sectors=" + DISK_BYTES / SECTOR + " ncq-depth=32",
                "disk read-sum=" + GuestImages.fnv1a(original, READ_LBA * SECTOR, READ_BYTES),
                "disk ncq ok",
                write,
                "disk hostile prdt: error reported (HBFS)",
                "disk recovered: read ok");
    }

    String cdLines() throws Exception {
        return String.join("\r\n",
                "cd model=jhyve CD-ROM",
                "cd vendor=jhyve product=CD-ROM",
                "cd blocks=" + isoBlocks() + " blocksize=2048",
                "cd volume=JHYVE",
                "cd file=DATA.BIN;1 size=" + FILE_BYTES + " sum=" + GuestImages.fnv1a(file, 0, FILE_BYTES),
                "cd bad opcode: error reported key=5",
                "cd sense key=05 asc=20 ascq=00",
                "cd hostile prdt: error reported (HBFS)",
                "cd recovered: read ok");
    }

    /** The guest's output with the ABAR addresses (the bus's choice) masked. */
    static String masked(JhyveProcess run) {
        return run.out().replaceAll("abar=[0-9a-f]{8}", "abar=*");
    }

    void assertPatternWrittenAndNothingElse() throws Exception {
        byte[] after = Files.readAllBytes(disk);
        int at = WRITE_LBA * SECTOR;
        assertThat(Arrays.copyOfRange(after, at, at + WRITE_BYTES)).isEqualTo(pattern());
        assertThat(Arrays.copyOfRange(after, 0, at)).isEqualTo(Arrays.copyOfRange(original, 0, at));
        assertThat(Arrays.copyOfRange(after, at + WRITE_BYTES, DISK_BYTES)).isEqualTo(Arrays.copyOfRange(original, at + WRITE_BYTES, DISK_BYTES));
    }

    @Test
    void aDriverDrivesADiskAndACdromThroughTheRealRegisters() throws Exception {
        images();
        JhyveProcess run = JhyveProcess.run(args("-s", "5,ahci-hd," + disk, "-s", "6,ahci-cd," + iso));
        assertThat(masked(run)).isEqualTo(String.join("\r\n",
                "ahci at 00:05.0 abar=* version=00010300 pi=00000001 slots=32",
                "port 0: sig=00000101 ssts=133",
                diskLines(String.join("\r\n", "disk-write-flushed",
                        "disk readback-sum=" + GuestImages.fnv1a(pattern(), 0, WRITE_BYTES), "disk readback ok")),
                "ahci at 00:06.0 abar=* version=00010300 pi=00000001 slots=32",
                "port 0: sig=eb140101 ssts=133",
                cdLines(),
                "ahci done", ""));
        // Each hostile PRD entry is one log line naming the guest address; nothing else goes wrong.
        assertThat(run.err().lines().filter(l -> l.contains("0x7fff00000000")).count()).as(run.err()).isEqualTo(2);
        assertThat(run.err().lines().filter(l -> !l.contains("0x7fff00000000"))).as(run.err()).isEmpty();
        assertThat(run.status()).as("powered off").isEqualTo(1);
        assertPatternWrittenAndNothingElse();
    }

    @Test
    void bhyvesMultiPortFormPutsTheDiskAndTheCdromOnPorts0And1() throws Exception {
        images();
        JhyveProcess run = JhyveProcess.run(args("-s", "5,ahci,hd:" + disk + ",cd:" + iso));
        String out = masked(run);
        assertThat(out).startsWith("ahci at 00:05.0 abar=* version=00010300 pi=00000003 slots=32\r\nport 0: sig=00000101 ssts=133\r\n");
        assertThat(out).contains(
                "disk read-sum=" + GuestImages.fnv1a(original, READ_LBA * SECTOR, READ_BYTES) + "\r\n",
                "disk-write-flushed\r\n", "disk readback ok\r\n", "disk recovered: read ok\r\n",
                "port 1: sig=eb140101 ssts=133\r\n",
                "cd file=DATA.BIN;1 size=" + FILE_BYTES + " sum=" + GuestImages.fnv1a(file, 0, FILE_BYTES) + "\r\n",
                "cd sense key=05 asc=20 ascq=00\r\n", "cd recovered: read ok\r\n");
        assertThat(out).endsWith("ahci done\r\n").doesNotContain("ahci at 00:06");
        assertThat(run.status()).isEqualTo(1);
        assertPatternWrittenAndNothingElse();
    }

    @Test
    void aReadOnlyDiskRefusesTheWriteWithAnErrorAndTheDriverRecovers() throws Exception {
        images();
        JhyveProcess run = JhyveProcess.run(args("-s", "5,ahci-hd," + disk + ",ro"));
        assertThat(masked(run)).isEqualTo(String.join("\r\n",
                "ahci at 00:05.0 abar=* version=00010300 pi=00000001 slots=32",
                "port 0: sig=00000101 ssts=133",
                // ABRT in the error register; the sectors read back as they were
                diskLines(String.join("\r\n", "disk write refused error=04",
                        "disk readback-sum=" + GuestImages.fnv1a(original, WRITE_LBA * SECTOR, WRITE_BYTES))),
                "ahci done", ""));
        assertThat(run.status()).isEqualTo(1);
        assertThat(Files.readAllBytes(disk)).isEqualTo(original);
    }
}
