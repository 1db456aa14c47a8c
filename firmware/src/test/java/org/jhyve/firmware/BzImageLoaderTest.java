package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.jhyve.boot.BootException;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bzImage whose header and file disagree is refused with one line before anything is written, rather
 * than loaded and started to fail inside the guest. Images are crafted ({@link KexecLoaderTest#bzImage});
 * one test also cuts a real kernel short when JHYVE_GUEST_KERNEL names one.
 */
class BzImageLoaderTest {
    private static final long MIB = 1L << 20;
    private static final int SETUP = 5 * 512;

    @TempDir Path dir;
    private final GuestMemory memory = SegmentGuestMemory.onHeap(64 * MIB);

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private static ByteBuffer header(byte[] image) {
        return ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void assertRefused(Path kernel, Optional<Path> initrd, String cmdline, String problem) {
        assertThatThrownBy(() -> new KexecLoader(kernel, initrd, cmdline).load(memory, 1))
                .isInstanceOf(BootException.class).hasMessage(kernel + ": " + problem);
    }

    private void assertRefused(Path kernel, String problem) {
        assertRefused(kernel, Optional.empty(), "", problem);
    }

    @Test
    void aBzImageCutShortAfterItsSetupIsRefused() throws IOException {
        Path cut = file("cut", Arrays.copyOf(KexecLoaderTest.bzImage(0x020f, 4096, false), SETUP + 4000));
        assertRefused(cut, "bzImage is truncated: its protected-mode kernel is 4000 bytes, its header (syssize) says 4096");
        assertThat(memory.readLong(0x1000000)).as("nothing loaded").isZero();
        assertThat(memory.readInt(LowMemoryMap.ZERO_PAGE + 0x202)).as("no zero page").isZero();
    }

    @Test
    void trailingBytesAfterWhatSyssizeSaysAreAccepted() throws IOException {
        byte[] image = KexecLoaderTest.bzImage(0x020f, 4096, false);
        header(image).putInt(0x1f4, 100); // 1600 bytes said, 4096 there
        assertThat(KexecLoader.of(file("padded", image)).load(memory, 1).registers().rip()).isEqualTo(0x1000200);
    }

    @Test
    void aPayloadBeyondTheFileIsRefused() throws IOException {
        byte[] image = KexecLoaderTest.bzImage(0x020f, 4096, false);
        header(image).putInt(0x248, 0x100).putInt(0x24c, 0x1000); // payload_offset, payload_length
        assertRefused(file("payload", image), "bzImage is truncated: its compressed kernel ends at byte 4352 of the protected-mode part, which has 4096");
    }

    @Test
    void aProtocolThatIsNot2xxIsRefused() throws IOException {
        assertRefused(file("v3", KexecLoaderTest.bzImage(0x0300, 4096, false)), "boot protocol 3.00 is not a Linux x86 boot protocol (2.xx)");
        assertRefused(file("vffff", KexecLoaderTest.bzImage(0xffff, 4096, false)), "boot protocol 255.255 is not a Linux x86 boot protocol (2.xx)");
    }

    @Test
    void cmdlineSizeIsUnsigned() throws IOException {
        byte[] image = KexecLoaderTest.bzImage(0x020f, 4096, false);
        header(image).putInt(0x238, 0xffffffff); // "any length": jhyve's own 2047 bytes are the limit then
        Path kernel = file("any-cmdline", image);
        new KexecLoader(kernel, Optional.empty(), "console=ttyS0").load(memory, 1);
        assertThat(new String(memory.readBytes(LowMemoryMap.COMMAND_LINE, 14), StandardCharsets.US_ASCII)).isEqualTo("console=ttyS0\0");
        assertRefused(kernel, Optional.empty(), "x".repeat(2048), "command line is 2048 bytes; this kernel takes at most 2047");

        header(image).putInt(0x238, 8);
        assertRefused(file("short-cmdline", image), Optional.empty(), "console=ttyS0", "command line is 13 bytes; this kernel takes at most 8");
    }

    @Test
    void aCommandLineIsPassedAsUtf8AndANulInItIsRefused() throws IOException {
        Path kernel = file("vmlinuz", KexecLoaderTest.bzImage(0x020f, 4096, false));
        new KexecLoader(kernel, Optional.empty(), "hostname=caf\u00e9").load(memory, 1);
        assertThat(memory.readBytes(LowMemoryMap.COMMAND_LINE, 15)).as("UTF-8, not '?'")
                .isEqualTo("hostname=caf\u00e9\0".getBytes(StandardCharsets.UTF_8));
        assertRefused(kernel, Optional.empty(), "console=ttyS0\0init=/bin/sh",
                "command line holds a NUL character at offset 13: the kernel would ignore the rest");
    }

    @Test
    void aKernelAlignmentThatIsNotAPowerOfTwoIsRefusedWhenTheKernelMustMove() throws IOException {
        byte[] image = KexecLoaderTest.bzImage(0x020f, 4096, true);
        header(image).putLong(0x258, 0x80000000L).putInt(0x230, 0x300000); // pref_address beyond RAM; 3 MiB
        assertRefused(file("align", image), "kernel_alignment 0x300000 is not a power of two: cannot place a relocatable kernel");
        header(image).putInt(0x230, 0);
        assertRefused(file("align0", image), "kernel_alignment 0x0 is not a power of two: cannot place a relocatable kernel");
    }

    @Test
    void anInitSizeBeyondRamIsRefused() throws IOException {
        byte[] image = KexecLoaderTest.bzImage(0x020f, 4096, false);
        header(image).putInt(0x260, 0xffffffff);
        assertRefused(file("init-size", image), "this kernel must load at 0x1000000 and needs 0xffffffff bytes there: give the guest more memory");
        header(image).putLong(0x258, 0x1000);
        assertRefused(file("pref-low", image), "this kernel must load at 0x1000 (pref_address), below 1 MiB where no kernel goes");
    }

    @Test
    void anInitrdAboveInitrdAddrMaxIsRefusedAndNothingIsWritten() throws IOException {
        byte[] image = KexecLoaderTest.bzImage(0x020f, 4096, false);
        header(image).putInt(0x22c, 0x10fffff); // initrd_addr_max: the last byte is where the kernel's init_size ends
        Path initrd = file("initrd", TestElf.bytes(4096, 2));
        assertThatThrownBy(() -> new KexecLoader(file("vmlinuz", image), Optional.of(initrd), "").load(memory, 1))
                .isInstanceOf(BootException.class)
                .hasMessageEndingWith(": the initrd (4096 bytes) does not fit between the kernel's end at 0x1100000 and 0x1100000: give the guest more memory");
        assertThat(memory.readLong(0x1000000)).as("kernel not loaded for a refused boot").isZero();
    }

    /** A real kernel (JHYVE_GUEST_KERNEL, as the Linux boot tests use) loads whole, and is refused cut short. */
    @Test
    void aRealBzImageLoadsWholeAndIsRefusedCutShort() throws IOException {
        // JHYVE_GUEST_KERNEL is the directory scripts/build-guest-kernel prints (vmlinux and bzImage in it).
        String env = System.getenv("JHYVE_GUEST_KERNEL");
        Assumptions.assumeTrue(env != null && Files.isRegularFile(Path.of(env, "bzImage")),
                "real-kernel check skipped: JHYVE_GUEST_KERNEL is not set to a kernel directory (scripts/build-guest-kernel builds one)");
        Path bzImage = Path.of(env, "bzImage");
        byte[] real = Files.readAllBytes(bzImage);
        Assumptions.assumeTrue(ImageFormat.detect(bzImage, real) instanceof ImageFormat.LinuxBzImage,
                "real-kernel check skipped: JHYVE_GUEST_KERNEL is not a bzImage");
        GuestMemory ram = SegmentGuestMemory.onHeap(256 * MIB);
        new KexecLoader(file("bzImage", real), Optional.empty(), "console=ttyS0").load(ram, 1);
        Path cut = file("bzImage-cut", Arrays.copyOf(real, real.length - 4096));
        assertThatThrownBy(() -> KexecLoader.of(cut).load(SegmentGuestMemory.onHeap(256 * MIB), 1))
                .hasMessageStartingWith(cut + ": bzImage is truncated: its protected-mode kernel is ");
    }
}
