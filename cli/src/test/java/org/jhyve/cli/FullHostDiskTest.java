package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full file system under the image, for real: a sparse image on a small tmpfs that another file has
 * filled, so the guest's write needs space the host does not have (pwritev: ENOSPC). The freestanding
 * guests see the device's I/O error (virtio-blk IOERR, ATA ERR/ABRT), carry on, and power off normally:
 * the VMM kept running. On a loop device over such an image the write succeeds (page cache) and the
 * FLUSH gets IOERR when its writeback is lost. Needs root (mount, losetup) and /dev/kvm; skipped with
 * the reason otherwise.
 */
@Timeout(120)
class FullHostDiskTest {
    @TempDir
    Path dir;
    Path fs;

    @BeforeEach
    void fullTmpfs() throws Exception {
        GuestImages.assumeKvm();
        fs = dir.resolve("fs");
        Files.createDirectories(fs);
        String mounted = run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", fs.toString());
        Assumptions.assumeTrue(mounted == null, () -> "cannot mount a small tmpfs (root needed): " + mounted);
    }

    @AfterEach
    void unmount() throws Exception {
        if (fs != null) run("umount", fs.toString());
    }

    /** A sparse image of {@code size} bytes on the tmpfs, which is then filled to the last page. */
    Path imageOnAFullFileSystem(long size) throws IOException {
        Path img = fs.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(size);
        }
        try (var out = Files.newOutputStream(fs.resolve("filler"))) {
            byte[] page = new byte[4096];
            for (;;) out.write(page);
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) throw e;
        }
        return img;
    }

    String[] args(String elf, String... slot) {
        String[] head = {"-m", "64M", "-s", "0:0,hostbridge"};
        String[] tail = {"-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + GuestImages.extract(dir, elf)};
        String[] all = java.util.Arrays.copyOf(head, head.length + slot.length + tail.length);
        System.arraycopy(slot, 0, all, head.length, slot.length);
        System.arraycopy(tail, 0, all, head.length + slot.length, tail.length);
        return all;
    }

    @Test
    void aVirtioBlkWriteGetsIoErrAndTheGuestCarriesOn() throws Exception {
        Path img = imageOnAFullFileSystem(1 << 20);
        JhyveProcess run = JhyveProcess.run(args("virtio-blk.elf", "-s", "4,virtio-blk," + img));
        byte[] zeroes = new byte[4096];
        assertThat(run.out()).isEqualTo(String.join("\r\n",
                "virtio-blk at 00:04.0", "capacity=0000000000000800", "ro=0",
                "read status=0 sum=" + GuestImages.fnv1a(zeroes, 0, 4096),
                "id=", "id status=0",
                "write status=1",                       // IOERR: the host has no space for it
                "flush status=0", "flushed",            // nothing was acknowledged, so the flush has nothing to lose
                "readback status=0 sum=" + GuestImages.fnv1a(zeroes, 0, 4096), "done", ""));
        assertThat(run.err()).contains("No space left on device");
        assertThat(run.status()).as("powered off by the guest: the VMM kept running").isEqualTo(1);
    }

    @Test
    void anAhciWriteGetsErrAbrtAndTheDriverRecovers() throws Exception {
        Path img = imageOnAFullFileSystem(AhciGuestTest.DISK_BYTES);
        JhyveProcess run = JhyveProcess.run(args("ahci.elf", "-s", "5,ahci-hd," + img));
        byte[] zeroes = new byte[AhciGuestTest.WRITE_BYTES];
        assertThat(run.out()).contains(
                "disk read-sum=" + GuestImages.fnv1a(new byte[AhciGuestTest.READ_BYTES], 0, AhciGuestTest.READ_BYTES) + "\r\n",
                "disk write refused error=04\r\n",      // ABRT in the error register, ERR in the status
                "disk readback-sum=" + GuestImages.fnv1a(zeroes, 0, zeroes.length) + "\r\n",
                "disk recovered: read ok\r\n", "ahci done\r\n");
        assertThat(run.err()).contains("No space left on device");
        assertThat(run.status()).isEqualTo(1);
    }

    @Test
    void aFlushWhoseWritebackIsLostGetsIoErrAndTheVmmSaysSo() throws Exception {
        // A loop device over the sparse image: the guest's write lands in the block device's page cache and
        // succeeds; the writeback at FLUSH time finds no space in the tmpfs, and fdatasync says EIO.
        Path backing = imageOnAFullFileSystem(8 << 20);
        String loop = run("losetup", "-f", "--show", backing.toString());
        Assumptions.assumeTrue(loop != null && loop.startsWith("/dev/loop"), () -> "cannot attach a loop device: " + loop);
        try {
            JhyveProcess run = JhyveProcess.run(args("virtio-blk.elf", "-s", "4,virtio-blk," + loop));
            assertThat(run.out()).contains("capacity=0000000000004000\r\n", "write status=0\r\n", "flush status=1\r\n", "done\r\n");
            assertThat(run.err()).contains("fdatasync failed", "Input/output error", "every later flush of this disk fails");
            assertThat(run.status()).as("powered off by the guest").isEqualTo(1);
        } finally {
            run("losetup", "-d", loop);
        }
    }

    /** Runs a command; null when it worked and printed nothing, else its output (the loop device, for losetup --show). */
    private static String run(String... command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) return command[0] + " did not finish";
            return p.exitValue() == 0 && out.isBlank() ? null : out.strip();
        } catch (IOException e) {
            return e.getMessage();
        }
    }
}
