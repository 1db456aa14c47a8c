package org.jhyve.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.jhyve.kvm.KvmHypervisor;

/** The guests module's programs as files, boot sectors made from bytes, and the KVM skip. */
final class GuestImages {
    private GuestImages() {}

    static void assumeKvm() {
        Assumptions.assumeTrue(KvmHypervisor.isAvailable(),
                () -> "KVM tests skipped: " + KvmHypervisor.unavailableReason().orElse("/dev/kvm is not usable"));
    }

    /** Copies {@code /guests/<name>} from the classpath into {@code dir}. */
    static Path extract(Path dir, String name) {
        try (InputStream in = GuestImages.class.getResourceAsStream("/guests/" + name)) {
            if (in == null) throw new IllegalStateException("guest program /guests/" + name + " is not on the classpath (build the guests module)");
            Path file = dir.resolve(name);
            Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A 512-byte boot sector holding {@code code} at 0x7c00, with the 0x55AA signature. */
    static Path bootSector(Path dir, String name, int... code) {
        byte[] sector = new byte[512];
        for (int i = 0; i < code.length; i++) sector[i] = (byte) code[i];
        sector[510] = 0x55;
        sector[511] = (byte) 0xaa;
        try {
            return Files.write(dir.resolve(name), Arrays.copyOf(sector, 512));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** FNV-1a (32-bit) of {@code len} bytes from {@code from}, as jhyve's guest programs print it (guest.c). */
    static String fnv1a(byte[] b, int from, int len) {
        int h = 0x811c9dc5;
        for (int i = from; i < from + len; i++) {
            h ^= b[i] & 0xff;
            h *= 0x01000193;
        }
        return String.format("%08x", h);
    }
}
