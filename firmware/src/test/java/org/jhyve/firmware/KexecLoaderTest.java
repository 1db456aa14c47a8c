package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jhyve.boot.BootException;
import org.jhyve.boot.BootState;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KexecLoaderTest {
    private static final long MIB = 1L << 20;

    @TempDir Path dir;
    private GuestMemory memory;

    @BeforeEach
    void memory() {
        memory = SegmentGuestMemory.onHeap(16 * MIB);
    }

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private BootState load(Path kernel) {
        return KexecLoader.of(kernel).load(memory, 1);
    }

    @Test
    void aBootSectorIsCopiedWholeTo0x7c00AndStartedInRealModeFromDriveDl0x80() throws IOException {
        byte[] image = ImageFormatTest.bootSector(1536);
        BootState state = load(file("hello-real.bin", image));
        assertThat(memory.readBytes(0x7c00, image.length)).isEqualTo(image);
        assertThat(state.registers().rip()).isEqualTo(0x7c00);
        assertThat(state.registers().rdx()).isEqualTo(0x80);
        assertThat(state.registers().rsp()).isEqualTo(0x7000);
        assertThat(state.registers().rflags()).isEqualTo(2);
        assertThat(state.specialRegisters()).isEqualTo(RealModeSetup.specialRegisters(0));
        assertThat(state.msrs()).isEmpty();
        assertThat(state.description()).isEqualTo("boot sector hello-real.bin (1536 bytes) at 0000:7c00, real mode");
    }

    @Test
    void anElfProgramsSegmentsGoToTheirPhysicalAddressesWithBssZeroed() throws IOException {
        byte[] text = TestElf.bytes(0x123, 1);
        byte[] data = TestElf.bytes(0x40, 9);
        byte[] image = TestElf.executable(0x100010)
                .load(0x100000, text, text.length)
                .load(0x300000, data, 0x2000) // 0x40 bytes of data, then 0x1fc0 of bss
                .build();
        memory.fill(0x2ff000, 0x4000, (byte) 0xcc); // what a previous boot might have left there
        BootState state = load(file("prog.elf", image));

        assertThat(memory.readBytes(0x100000, text.length)).isEqualTo(text);
        assertThat(memory.readBytes(0x300000, data.length)).isEqualTo(data);
        assertThat(memory.readBytes(0x300040, 0x2000 - 0x40)).as("bss").containsOnly((byte) 0);
        assertThat(memory.readByte(0x302000)).as("past the segment").isEqualTo((byte) 0xcc);
        assertThat(memory.readByte(0x2fffff)).as("before the segment").isEqualTo((byte) 0xcc);

        assertThat(state.registers().rip()).isEqualTo(0x100010);
        assertThat(state.registers().rsp()).isEqualTo(0x8ff0);
        assertThat(state.registers().rflags()).isEqualTo(2);
        assertThat(state.specialRegisters()).isEqualTo(LongModeSetup.specialRegisters());
        assertThat(memory.readLong(0x9000)).as("page tables written").isEqualTo(0xa003);
        assertThat(state.description()).isEqualTo("ELF64 program prog.elf, entry 0x100010, long mode");
    }

    @Test
    void segmentsOutsideGuestRamAreRefusedNamingTheSegmentAndTheRam() throws IOException {
        Path pastEnd = file("past-end", TestElf.executable(0xfff000).load(0xfff000, new byte[16], 0x2000).build());
        assertThatThrownBy(() -> load(pastEnd)).isInstanceOf(BootException.class)
                .hasMessage(pastEnd + ": ELF segment 0 [0xfff000, 0x1001000) is outside guest RAM [0x0, 0x1000000)");

        Path wraps = file("wraps", TestElf.executable(0x100000).load(0x100000, new byte[16], 16)
                .load(0xffff_ffff_ffff_f000L, new byte[16], 0x2000).build());
        assertThatThrownBy(() -> load(wraps))
                .hasMessage(wraps + ": ELF segment 1 at 0xfffffffffffff000 with 0x2000 bytes wraps around the address space");

        Path hugeMemsz = file("huge", TestElf.executable(0x100000).load(0x100000, new byte[16], 0x7fff_ffff_ffff_ffffL).build());
        assertThatThrownBy(() -> load(hugeMemsz)).hasMessageContaining("wraps around the address space");
    }

    @Test
    void aSegmentAbove4GiBIsRefusedEvenWhenGuestRamIsThere() throws IOException {
        GuestMemory big = new SegmentGuestMemory(java.util.List.of(
                new org.jhyve.memory.MemoryRegion(0, java.lang.foreign.Arena.ofAuto().allocate(4 * MIB)),
                new org.jhyve.memory.MemoryRegion(4L << 30, java.lang.foreign.Arena.ofAuto().allocate(4 * MIB))));
        Path high = file("high", TestElf.executable(4L << 30).load(4L << 30, new byte[16], 16).build());
        assertThatThrownBy(() -> KexecLoader.of(high).load(big, 1))
                .hasMessage(high + ": ELF segment 0 [0x100000000, 0x100000010) ends above 4 GiB, beyond the identity map a program starts with");
    }

    @Test
    void aSegmentOverJhyvesBootTablesIsRefused() throws IOException {
        Path path = file("low", TestElf.executable(0xa000).load(0xa000, new byte[16], 16).build());
        assertThatThrownBy(() -> load(path))
                .hasMessage(path + ": ELF segment 0 [0xa000, 0xa010) overlaps jhyve's boot tables at [0x500, 0xf000)");
        Path below = file("below", TestElf.executable(0x400).load(0x400, new byte[0x100], 0x101).build());
        assertThatThrownBy(() -> load(below)).hasMessageContaining("overlaps jhyve's boot tables");
        Path justAbove = file("above", TestElf.executable(0xf000).load(0xf000, new byte[16], 16).build());
        assertThat(load(justAbove).registers().rip()).isEqualTo(0xf000);
    }

    @Test
    void virtualAndPhysicalAddressesMustAgree() throws IOException {
        Path path = file("kernel-like", TestElf.executable(0xffffffff81000000L)
                .load(0xffffffff81000000L, 0x1000000, new byte[16], 16).build());
        assertThatThrownBy(() -> load(path)).hasMessage(path + ": ELF segment 0 [0x1000000, 0x1000010) is linked at virtual "
                + "address 0xffffffff81000000: jhyve maps memory 1:1, so a program's virtual and physical addresses must be equal");
    }

    @Test
    void theEntryPointMustBeInsideALoadedSegment() throws IOException {
        Path outside = file("entry", TestElf.executable(0x200000).load(0x100000, new byte[16], 0x100).build());
        assertThatThrownBy(() -> load(outside)).hasMessage(outside + ": entry point 0x200000 is not inside any loadable segment");
        Path noLoad = file("noload", TestElf.executable(0x100000).build());
        assertThatThrownBy(() -> load(noLoad)).hasMessage(noLoad + ": ELF file has no loadable segment");
    }

    @Test
    void aRefusedImageLeavesGuestMemoryUntouched() throws IOException {
        Path path = file("half-bad", TestElf.executable(0x100000).load(0x100000, TestElf.bytes(16, 1), 16)
                .load(0x8000000, new byte[16], 16).build());
        assertThatThrownBy(() -> load(path)).hasMessageContaining("ELF segment 1");
        assertThat(memory.readBytes(0x100000, 16)).containsOnly((byte) 0);
        assertThat(memory.readLong(0x9000)).isZero();
    }

    @Test
    void programsTakeNoInitrdAndNoCommandLine() throws IOException {
        Path sector = file("boot.bin", ImageFormatTest.bootSector(512));
        Path initrd = file("initrd", new byte[16]);
        assertThatThrownBy(() -> new KexecLoader(sector, Optional.of(initrd), "").load(memory, 1))
                .hasMessage(sector + ": a boot-sector program takes no initrd (" + initrd + " was given)");
        assertThatThrownBy(() -> new KexecLoader(sector, Optional.empty(), "console=ttyS0").load(memory, 1))
                .hasMessage(sector + ": a boot-sector program takes no kernel command line (\"console=ttyS0\" was given)");

        Path elf = file("prog.elf", TestElf.executable(0x100000).load(0x100000, new byte[16], 16).build());
        assertThatThrownBy(() -> new KexecLoader(elf, Optional.of(initrd), "").load(memory, 1))
                .hasMessage(elf + ": an ELF64 program takes no initrd (" + initrd + " was given)");
        assertThatThrownBy(() -> new KexecLoader(elf, Optional.empty(), "quiet").load(memory, 1))
                .hasMessageContaining("an ELF64 program takes no kernel command line");

        assertThat(new KexecLoader(elf, Optional.empty(), "  ").load(memory, 1).registers().rip()).isEqualTo(0x100000);
    }

    /** A minimal bzImage: protocol 2.15, 64-bit entry, 4 setup sectors, pref_address 16 MiB, init_size 1 MiB. */
    static byte[] bzImage(int version, int kernelBytes, boolean relocatable) {
        byte[] image = new byte[5 * 512 + kernelBytes];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(image).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(0x1f1, (byte) 4);
        b.putInt(0x1f4, kernelBytes / 16); // syssize: the protected-mode part in 16-byte paragraphs
        b.putShort(0x1fe, (short) 0xaa55);
        b.put(0x200, (byte) 0xeb).put(0x201, (byte) 0x66); // jmp over the header, to 0x268
        b.putInt(0x202, 0x53726448); // "HdrS"
        b.putShort(0x206, (short) version);
        b.put(0x211, (byte) 0x01); // LOADED_HIGH
        b.putInt(0x22c, 0x7fffffff); // initrd_addr_max
        b.putInt(0x230, 0x200000); // kernel_alignment
        b.put(0x234, (byte) (relocatable ? 1 : 0));
        b.putShort(0x236, (short) 0x1); // XLF_KERNEL_64
        b.putInt(0x238, 2047); // cmdline_size
        b.putLong(0x258, 0x1000000); // pref_address
        b.putInt(0x260, 1 << 20); // init_size
        for (int i = 0; i < kernelBytes; i++) image[5 * 512 + i] = (byte) (i * 7 + 1);
        return image;
    }

    @Test
    void bzImageLoadsAtItsPreferredAddressWithAZeroPage() throws IOException {
        byte[] image = bzImage(0x020f, 3000, false);
        Path vmlinuz = file("vmlinuz", image);
        Path initrd = file("initrd", TestElf.bytes(4096, 5));
        GuestMemory memory = SegmentGuestMemory.onHeap(64 * MIB);
        var state = new KexecLoader(vmlinuz, Optional.of(initrd), "console=ttyS0", true, org.jhyve.cpu.CpuTemplate.HOST).load(memory, 1);

        assertThat(state.registers().rip()).as("64-bit entry").isEqualTo(0x1000000 + 0x200);
        long zp = state.registers().rsi();
        assertThat(zp).isEqualTo(LowMemoryMap.ZERO_PAGE);
        assertThat(state.specialRegisters().longMode()).isTrue();
        assertThat(memory.readBytes(0x1000000, 3000)).isEqualTo(java.util.Arrays.copyOfRange(image, 2560, 5560));
        assertThat(memory.readInt(zp + 0x202)).as("header copied").isEqualTo(0x53726448);
        assertThat(memory.readByte(zp + 0x210)).as("type_of_loader").isEqualTo((byte) 0xff);
        assertThat(memory.readByte(zp + 0x211) & 0x81).as("LOADED_HIGH | CAN_USE_HEAP").isEqualTo(0x81);
        long cmdline = memory.readInt(zp + 0x228) & 0xffffffffL;
        assertThat(new String(memory.readBytes(cmdline, 14), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("console=ttyS0\0");
        long ramdisk = memory.readInt(zp + 0x218) & 0xffffffffL;
        assertThat(memory.readInt(zp + 0x21c)).isEqualTo(4096);
        assertThat(memory.readBytes(ramdisk, 4096)).isEqualTo(TestElf.bytes(4096, 5));
        assertThat(ramdisk).isGreaterThanOrEqualTo(0x1000000 + (1 << 20));
        assertThat(memory.readLong(zp + 0x070)).as("acpi_rsdp_addr").isEqualTo(AcpiTables.RSDP);
        assertThat(memory.readByte(zp + 0x1e8)).as("e820 entries").isEqualTo((byte) 3);
        assertThat(memory.readLong(zp + 0x2d0 + 40)).isEqualTo(0x100000);
        assertThat(memory.readInt(zp + 0x2d0 + 40 + 16)).isEqualTo(1);
    }

    @Test
    void bzImageErrorsAreOneLineAndNameTheProblem() throws IOException {
        GuestMemory memory = SegmentGuestMemory.onHeap(64 * MIB);
        Path old = file("old", bzImage(0x0205, 100, false));
        assertThatThrownBy(() -> KexecLoader.of(old).load(memory, 1)).isInstanceOf(BootException.class)
                .hasMessage(old + ": boot protocol 2.05 is too old: jhyve needs 2.06 or later");
        Path truncated = file("truncated", java.util.Arrays.copyOf(bzImage(0x020f, 100, false), 2000));
        assertThatThrownBy(() -> KexecLoader.of(truncated).load(memory, 1))
                .hasMessage(truncated + ": bzImage is truncated: 2000 bytes, its setup alone takes 2560");
        Path fixed = file("fixed", bzImage(0x020f, 100, false));
        assertThatThrownBy(() -> KexecLoader.of(fixed).load(SegmentGuestMemory.onHeap(16 * MIB), 1))
                .hasMessage(fixed + ": this kernel must load at 0x1000000 and needs 0x100000 bytes there: give the guest more memory");
        assertThatThrownBy(() -> new KexecLoader(fixed, Optional.empty(), "x".repeat(2048)).load(memory, 1))
                .hasMessage(fixed + ": command line is 2048 bytes; this kernel takes at most 2047");
    }

    @Test
    void relocatableBzImageMovesAboveSixteenMibWhenItsPreferenceDoesNotFit() throws IOException {
        byte[] image = bzImage(0x020f, 100, true);
        java.nio.ByteBuffer.wrap(image).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0x258, 0x80000000L);
        Path vmlinuz = file("reloc", image);
        var state = KexecLoader.of(vmlinuz).load(SegmentGuestMemory.onHeap(64 * MIB), 1);
        assertThat(state.registers().rip()).isEqualTo(0x1000000 + 0x200);
    }

    @Test
    void pvhKernelStartsIn32BitProtectedModeWithStartInfoInEbx() throws IOException {
        byte[] code = TestElf.bytes(64, 7);
        Path vmlinux = file("vmlinux", TestElf.executable(0x1000000).load(0x1000000, code, 0x2000)
                .notes(4, TestElf.pvhNote(0x1000010, 4)).build());
        Path initrd = file("initrd", TestElf.bytes(5000, 3));
        GuestMemory memory = SegmentGuestMemory.onHeap(64 * MIB);
        var state = new KexecLoader(vmlinux, Optional.of(initrd), "console=ttyS0 quiet", true, org.jhyve.cpu.CpuTemplate.HOST).load(memory, 2);

        assertThat(state.registers().rip()).isEqualTo(0x1000010);
        assertThat(state.registers().rbx()).isEqualTo(LowMemoryMap.PVH_START_INFO);
        assertThat(state.specialRegisters().cr0() & 1).as("protected mode").isEqualTo(1);
        assertThat(state.specialRegisters().cr0() >>> 31).as("paging off").isZero();
        assertThat(state.specialRegisters().efer()).isZero();
        assertThat(state.specialRegisters().cs().db()).as("32-bit code").isTrue();
        assertThat(state.specialRegisters().cs().l()).isFalse();
        assertThat(memory.readBytes(0x1000000, 64)).isEqualTo(code);
        assertThat(memory.readByte(0x1000000 + 64)).as("bss zeroed").isZero();

        long si = LowMemoryMap.PVH_START_INFO;
        assertThat(memory.readInt(si)).isEqualTo(0x336ec578);
        assertThat(memory.readInt(si + 4)).as("version").isEqualTo(1);
        assertThat(memory.readInt(si + 12)).as("modules").isEqualTo(1);
        long cmdline = memory.readLong(si + 24);
        assertThat(new String(memory.readBytes(cmdline, 20), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("console=ttyS0 quiet\0");
        assertThat(memory.readLong(si + 32)).as("RSDP").isEqualTo(AcpiTables.RSDP);
        assertThat(new String(memory.readBytes(AcpiTables.RSDP, 8), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("RSD PTR ");

        long module = memory.readLong(si + 16);
        long initrdAt = memory.readLong(module);
        assertThat(memory.readLong(module + 8)).isEqualTo(5000);
        assertThat(initrdAt % 4096).isZero();
        assertThat(initrdAt + 5000).isLessThanOrEqualTo(64 * MIB).isGreaterThan(64 * MIB - 8192);
        assertThat(memory.readBytes(initrdAt, 5000)).isEqualTo(TestElf.bytes(5000, 3));

        long map = memory.readLong(si + 40);
        int entries = memory.readInt(si + 48);
        assertThat(entries).isEqualTo(3);
        assertThat(memory.readLong(map)).isZero();
        assertThat(memory.readLong(map + 8)).isEqualTo(0x9fc00);
        assertThat(memory.readInt(map + 16)).isEqualTo(1);
        assertThat(memory.readLong(map + 24)).isEqualTo(0x9fc00);
        assertThat(memory.readInt(map + 24 + 16)).as("EBDA and BIOS area reserved").isEqualTo(2);
        assertThat(memory.readLong(map + 48)).isEqualTo(0x100000);
        assertThat(memory.readLong(map + 56)).isEqualTo(64 * MIB - 0x100000);
    }

    @Test
    void thePvmCpuTemplateAddsItsKernelParametersToLinuxOnly() throws IOException {
        Path vmlinux = file("vmlinux", TestElf.executable(0x1000000).load(0x1000000, new byte[16], 16)
                .notes(4, TestElf.pvhNote(0x1000000, 4)).build());
        GuestMemory memory = SegmentGuestMemory.onHeap(64 * MIB);
        new KexecLoader(vmlinux, Optional.empty(), "console=ttyS0", false, org.jhyve.cpu.CpuTemplate.PVM).load(memory, 1);
        long cmdline = memory.readLong(LowMemoryMap.PVH_START_INFO + 24);
        String expected = "console=ttyS0 " + org.jhyve.cpu.CpuTemplate.PVM.kernelParameters();
        assertThat(new String(memory.readBytes(cmdline, expected.length() + 1), java.nio.charset.StandardCharsets.US_ASCII))
                .isEqualTo(expected + "\0");
        assertThat(memory.readLong(LowMemoryMap.PVH_START_INFO + 32)).as("no -A: no RSDP").isZero();
    }

    @Test
    void pvhCommandLineLongerThanTheKernelTakesIsRefused() throws IOException {
        Path vmlinux = file("vmlinux", TestElf.executable(0x1000000).load(0x1000000, new byte[16], 16)
                .notes(4, TestElf.pvhNote(0x1000000, 4)).build());
        String tooLong = "x".repeat(2048);
        assertThatThrownBy(() -> new KexecLoader(vmlinux, Optional.empty(), tooLong).load(SegmentGuestMemory.onHeap(64 * MIB), 1))
                .isInstanceOf(BootException.class)
                .hasMessage(vmlinux + ": command line is 2048 bytes; this kernel takes at most 2047");
    }

    @Test
    void anInitrdThatDoesNotFitIsRefused() throws IOException {
        Path vmlinux = file("vmlinux", TestElf.executable(0x1000000).load(0x1000000, new byte[16], 16)
                .notes(4, TestElf.pvhNote(0x1000000, 4)).build());
        Path initrd = file("big-initrd", new byte[(int) (20 * MIB)]);
        assertThatThrownBy(() -> new KexecLoader(vmlinux, Optional.of(initrd), "").load(SegmentGuestMemory.onHeap(32 * MIB), 1))
                .isInstanceOf(BootException.class).hasMessageContaining("the initrd (20971520 bytes) does not fit");
    }

    @Test
    void missingDirectoryAndOversizedFilesAreNamed() throws IOException {
        Path missing = dir.resolve("no-such-kernel");
        assertThatThrownBy(() -> load(missing)).isInstanceOf(BootException.class).hasMessage(missing + ": no such file");
        assertThatThrownBy(() -> load(dir)).hasMessage(dir + ": is a directory, not a kernel or program");

        GuestMemory small = SegmentGuestMemory.onHeap(MIB);
        Path big = file("big", new byte[(int) MIB + 1]);
        assertThatThrownBy(() -> KexecLoader.of(big).load(small, 1))
                .hasMessage(big + ": 1048577 bytes is too big to load into 1048576 bytes of guest RAM");
    }
}
