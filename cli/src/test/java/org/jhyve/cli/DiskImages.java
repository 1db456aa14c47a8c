package org.jhyve.cli;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** Disk images for the end-to-end tests, made on the host the way a user would make them. */
final class DiskImages {
    private DiskImages() {}

    static final int MIB = 1 << 20;

    /** {@code mib} MiB of seeded random bytes with an MBR holding one Linux partition from 1 MiB to the end. */
    static Path randomMbrDisk(Path file, int mib, long seed) throws IOException {
        byte[] chunk = new byte[MIB];
        Random random = new Random(seed);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            for (int i = 0; i < mib; i++) {
                random.nextBytes(chunk);
                f.write(chunk);
            }
            ByteBuffer mbr = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
            mbr.put(chunk, 0, 446); // boot code area: anything
            mbr.put((byte) 0).put(new byte[] {0, 2, 0}).put((byte) 0x83).put(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
            mbr.putInt(2048).putInt(mib * 2048 - 2048);
            mbr.put(new byte[48]);
            mbr.put((byte) 0x55).put((byte) 0xaa);
            f.seek(0);
            f.write(mbr.array());
        }
        return file;
    }

    /** An ext4 file system image of {@code mib} MiB holding {@code content}'s files (mkfs.ext4 -d, e2fsprogs). */
    static Path ext4(Path file, int mib, Path content) throws IOException, InterruptedException {
        run("mkfs.ext4", "-q", "-F", "-L", "jhyve", "-d", content.toString(), file.toString(), mib + "M");
        return file;
    }

    /**
     * A disk of {@code mib} MiB with an MBR whose one Linux partition, from 1 MiB to the end, holds an ext4 file
     * system of {@code content}'s files: what an installer leaves, as /dev/vda1 in the guest.
     */
    static Path partitionedExt4(Path file, int mib, Path content) throws IOException, InterruptedException {
        run("mkfs.ext4", "-q", "-F", "-L", "jhyve", "-E", "offset=" + MIB, "-d", content.toString(), file.toString(), (mib - 1) + "M");
        ByteBuffer mbr = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        mbr.position(446);
        mbr.put((byte) 0).put(new byte[] {0, 2, 0}).put((byte) 0x83).put(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
        mbr.putInt(2048).putInt(mib * 2048 - 2048);
        mbr.position(510);
        mbr.put((byte) 0x55).put((byte) 0xaa);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(mbr.array());
        }
        return file;
    }

    /** An ISO 9660 image (Rock Ridge and Joliet) of {@code content}, made with xorriso as a user would. */
    static Path iso(Path file, Path content) throws IOException, InterruptedException {
        run("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-V", "JHYVE", "-o", file.toString(), content.toString());
        return file;
    }

    /** Copies {@code path} out of the ISO image {@code iso} to {@code to}, as a user takes a kernel off an ISO: no mount. */
    static Path fromIso(Path iso, String path, Path to) throws IOException, InterruptedException {
        run("xorriso", "-osirrox", "on", "-indev", iso.toString(), "-extract", path, to.toString());
        return to;
    }

    /** A file's contents inside an ext4 image (debugfs, e2fsprogs), read on the host. */
    static String ext4File(Path image, String path) throws IOException, InterruptedException {
        return ext4File(image, path, 0);
    }

    /** A file's contents inside an ext4 file system that starts {@code offset} bytes into {@code image}. */
    static String ext4File(Path image, String path, long offset) throws IOException, InterruptedException {
        return run("debugfs", "-R", "cat " + path, offset == 0 ? image.toString() : image + "?offset=" + offset);
    }

    private static String run(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(command));
        Path tool = Path.of("/sbin", cmd.get(0));
        if (Files.isExecutable(tool)) cmd.set(0, tool.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (scripts/test installs e2fsprogs and xorriso): " + err);
        }
        return out;
    }

    /** Percent-encodes a shell command for jhyve's /init (jhyve.run=): everything but [A-Za-z0-9./_-]. */
    static String runParameter(String command) {
        StringBuilder b = new StringBuilder("jhyve.run=");
        for (byte c : command.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '_' || c == '-') {
                b.append((char) c);
            } else {
                b.append(String.format("%%%02X", c & 0xff));
            }
        }
        return b.toString();
    }

    static String sha256(byte[] data) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] read(Path file, long offset, int length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            byte[] b = new byte[length];
            f.seek(offset);
            f.readFully(b);
            return b;
        }
    }
}
