package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jhyve.boot.BootException;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.MemoryRegion;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where crafted ELF segments may go, for ELF64 programs and PVH kernels alike: never over each other,
 * over jhyve's own structures, outside RAM (the PCI hole included) or out of the entry's reach; and a
 * refused image leaves guest memory as it was.
 */
class ElfPlacementTest {
    private static final long MIB = 1L << 20;

    @TempDir Path dir;
    private final GuestMemory memory = SegmentGuestMemory.onHeap(64 * MIB);

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private Path pvh(String name, long entry, TestElf elf) throws IOException {
        return file(name, elf.notes(4, TestElf.pvhNote(entry, 8)).build());
    }

    @Test
    void overlappingSegmentsOfAProgramAreRefused() throws IOException {
        Path path = file("overlap", TestElf.executable(0x100000)
                .load(0x100000, TestElf.bytes(0x100, 1), 0x2000)
                .load(0x101000, TestElf.bytes(0x10, 2), 0x10).build());
        assertThatThrownBy(() -> KexecLoader.of(path).load(memory, 1)).isInstanceOf(BootException.class)
                .hasMessage(path + ": ELF segments 0 [0x100000, 0x102000) and 1 [0x101000, 0x101010) overlap: one would overwrite the other");
        assertThat(memory.readBytes(0x100000, 0x100)).as("nothing written").containsOnly((byte) 0);
    }

    @Test
    void overlapIsFoundWhateverTheOrderOfTheProgramHeaders() throws IOException {
        Path path = file("overlap-reversed", TestElf.executable(0x200000)
                .load(0x300000, new byte[16], 0x1000)
                .load(0x200000, new byte[16], 0x100001).build());
        assertThatThrownBy(() -> KexecLoader.of(path).load(memory, 1))
                .hasMessage(path + ": ELF segments 0 [0x300000, 0x301000) and 1 [0x200000, 0x300001) overlap: one would overwrite the other");
    }

    @Test
    void segmentsThatOnlyTouchAreFine() throws IOException {
        Path path = file("touching", TestElf.executable(0x100000)
                .load(0x100000, TestElf.bytes(16, 1), 0x1000)
                .load(0x101000, TestElf.bytes(16, 2), 0x1000).build());
        assertThat(KexecLoader.of(path).load(memory, 1).registers().rip()).isEqualTo(0x100000);
        assertThat(memory.readBytes(0x101000, 16)).isEqualTo(TestElf.bytes(16, 2));
    }

    @Test
    void overlappingSegmentsOfAPvhKernelAreRefused() throws IOException {
        Path path = pvh("vmlinux", 0x1000000, TestElf.executable(0x1000000)
                .load(0x1000000, TestElf.bytes(64, 1), 0x200000)
                .load(0x1100000, TestElf.bytes(64, 2), 0x1000));
        assertThatThrownBy(() -> KexecLoader.of(path).load(memory, 1))
                .hasMessage(path + ": ELF segments 0 [0x1000000, 0x1200000) and 1 [0x1100000, 0x1101000) overlap: one would overwrite the other");
        assertThat(memory.readBytes(0x1000000, 64)).as("nothing written").containsOnly((byte) 0);
    }

    @Test
    void aProgramSegmentOverTheBiosAreaIsRefused() throws IOException {
        Path path = file("bios", TestElf.executable(0xe0000).load(0xe0000, new byte[16], 16).build());
        assertThatThrownBy(() -> new KexecLoader(path, Optional.empty(), "", true, org.jhyve.cpu.CpuTemplate.HOST).load(memory, 1))
                .hasMessage(path + ": ELF segment 0 [0xe0000, 0xe0010) overlaps the BIOS area [0x9fc00, 0x100000), where jhyve puts the ACPI tables");
        Path below = file("below-ebda", TestElf.executable(0x9f000).load(0x9f000, new byte[16], 0xc01).build());
        assertThatThrownBy(() -> KexecLoader.of(below).load(memory, 1)).hasMessageContaining("overlaps the BIOS area");
    }

    @Test
    void aSegmentInThePciHoleIsOutsideRam() throws IOException {
        GuestMemory split = new SegmentGuestMemory(List.of(
                new MemoryRegion(0, Arena.ofAuto().allocate(16 * MIB)),
                new MemoryRegion(4L << 30, Arena.ofAuto().allocate(4 * MIB))));
        Path path = file("hole", TestElf.executable(0xc0000000L).load(0xc0000000L, new byte[16], 16).build());
        assertThatThrownBy(() -> KexecLoader.of(path).load(split, 1))
                .hasMessage(path + ": ELF segment 0 [0xc0000000, 0xc0000010) is outside guest RAM [0x0, 0x1000000) and [0x100000000, 0x100400000)");
        Path pvh = pvh("vmlinux-hole", 0xc0000000L, TestElf.executable(0xc0000000L).load(0xc0000000L, new byte[16], 16));
        assertThatThrownBy(() -> KexecLoader.of(pvh).load(split, 1))
                .hasMessage(pvh + ": kernel segment [0xc0000000, +0x10) does not fit in guest RAM above 1 MiB");
    }

    @Test
    void aPvhEntryOutsideTheKernelIsRefused() throws IOException {
        Path path = pvh("vmlinux", 0x2000000, TestElf.executable(0x1000000).load(0x1000000, new byte[16], 0x1000));
        assertThatThrownBy(() -> KexecLoader.of(path).load(memory, 1))
                .hasMessage(path + ": PVH entry point 0x2000000 is not inside any loadable segment");
        Path beyond32 = pvh("vmlinux-64", 0x1_0100_0000L, TestElf.executable(0x1000000).load(0x1000000, new byte[16], 0x1000));
        assertThatThrownBy(() -> KexecLoader.of(beyond32).load(memory, 1)).hasMessageContaining("PVH entry point 0x101000000 is not inside");
    }

    @Test
    void aPvhSegmentAbove4GiBIsRefusedEvenWhenRamIsThere() throws IOException {
        GuestMemory split = new SegmentGuestMemory(List.of(
                new MemoryRegion(0, Arena.ofAuto().allocate(32 * MIB)),
                new MemoryRegion(4L << 30, Arena.ofAuto().allocate(4 * MIB))));
        Path path = pvh("vmlinux-high", 0x1000000, TestElf.executable(0x1000000)
                .load(0x1000000, new byte[16], 0x1000)
                .load(4L << 30, new byte[16], 0x1000));
        assertThatThrownBy(() -> KexecLoader.of(path).load(split, 1))
                .hasMessage(path + ": ELF segment 1 [0x100000000, 0x100001000) ends above 4 GiB, out of reach of the 32-bit PVH entry");
    }

    @Test
    void aRefusedPvhKernelLeavesMemoryUntouched() throws IOException {
        Path path = pvh("vmlinux", 0x1000000, TestElf.executable(0x1000000).load(0x1000000, TestElf.bytes(64, 1), 0x1000));
        assertThatThrownBy(() -> new KexecLoader(path, Optional.empty(), "x".repeat(4096)).load(memory, 1))
                .hasMessage(path + ": command line is 4096 bytes; this kernel takes at most 2047");
        assertThat(memory.readBytes(0x1000000, 64)).as("kernel not written").containsOnly((byte) 0);
    }
}
