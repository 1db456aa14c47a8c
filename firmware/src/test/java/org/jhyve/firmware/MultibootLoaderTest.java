package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jhyve.boot.BootException;
import org.jhyve.boot.BootState;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Multiboot 1 kernels as a guest sees them after jhyve loaded them: where the bytes went, the registers, the information structure. */
class MultibootLoaderTest {
    private static final long MIB = 1L << 20;
    private static final long MEMORY = 32 * MIB;

    @TempDir Path dir;
    private GuestMemory memory;

    @BeforeEach
    void memory() {
        memory = SegmentGuestMemory.onHeap(MEMORY);
    }

    /** An i386 ELF32 executable whose first segment starts with a Multiboot header (flags {@code flags}). */
    static final class Elf32 {
        record Segment(long vaddr, long paddr, byte[] data, long memSize) {}

        final List<Segment> segments = new ArrayList<>();
        long entry;
        int machine = Elf32Reader.EM_386;

        Elf32 withEntry(long address) {
            entry = address;
            return this;
        }

        Elf32 load(long vaddr, long paddr, byte[] data, long memSize) {
            segments.add(new Segment(vaddr, paddr, data, memSize));
            return this;
        }

        byte[] build() {
            int dataStart = 52 + 32 * segments.size();
            int total = dataStart + segments.stream().mapToInt(s -> s.data().length).sum();
            ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
            b.put(new byte[] {0x7f, 'E', 'L', 'F', 1, 1, 1, 0});
            b.putShort(0x10, (short) ElfFile.ET_EXEC).putShort(0x12, (short) machine).putInt(0x14, 1).putInt(0x18, (int) entry)
                    .putInt(0x1c, 52).putShort(0x28, (short) 52).putShort(0x2a, (short) 32).putShort(0x2c, (short) segments.size());
            int offset = dataStart;
            for (int i = 0; i < segments.size(); i++) {
                Segment s = segments.get(i);
                int ph = 52 + 32 * i;
                b.putInt(ph, ElfFile.PT_LOAD).putInt(ph + 4, offset).putInt(ph + 8, (int) s.vaddr()).putInt(ph + 12, (int) s.paddr())
                        .putInt(ph + 16, s.data().length).putInt(ph + 20, (int) s.memSize()).putInt(ph + 24, 7).putInt(ph + 28, 0x1000);
                b.put(offset, s.data());
                offset += s.data().length;
            }
            return b.array();
        }
    }

    /** A Multiboot header with {@code flags} and a correct checksum, followed by {@code code}. */
    static byte[] headerThen(int flags, byte[] code) {
        ByteBuffer b = ByteBuffer.allocate(12 + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MultibootHeader.MAGIC).putInt(flags).putInt(-(MultibootHeader.MAGIC + flags)).put(code);
        return b.array();
    }

    /** kvm-unit-tests' shape: text with the header at 0x400000, data plus a large bss above it. */
    static byte[] kernel() {
        return new Elf32().load(0x400000, 0x400000, headerThen(0, TestElf.bytes(100, 1)), 0x200)
                .load(0x401000, 0x401000, TestElf.bytes(64, 9), 0x40000)
                .withEntry(0x40000c).build();
    }

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private BootState load(Path kernel, Optional<Path> initrd, String cmdline) {
        return new KexecLoader(kernel, initrd, cmdline, false, CpuTemplate.HOST, false).load(memory, 1);
    }

    private String cString(long address) {
        StringBuilder s = new StringBuilder();
        for (long a = address; memory.readByte(a) != 0; a++) s.append((char) memory.readByte(a));
        return s.toString();
    }

    @Test
    void anElf32KernelIsDetectedByItsMultibootHeaderAndItsSegmentsGoToTheirPhysicalAddresses() throws IOException {
        byte[] image = kernel();
        Path path = file("apic.flat", image);
        ImageFormat format = ImageFormat.detect(path);
        assertThat(format).isInstanceOf(ImageFormat.Multiboot.class);
        assertThat(((ImageFormat.Multiboot) format).header().offset()).isEqualTo(52 + 64);

        memory.fill(0x401000, 0x40000, (byte) 0x5a); // the bss must come back zeroed
        load(path, Optional.empty(), "");
        assertThat(memory.readBytes(0x400000, 112)).isEqualTo(java.util.Arrays.copyOfRange(image, 52 + 64, 52 + 64 + 112));
        assertThat(memory.readBytes(0x401000, 64)).isEqualTo(TestElf.bytes(64, 9));
        assertThat(memory.readBytes(0x401040, 0x40000 - 64)).containsOnly(0);
    }

    /**
     * Where the kernel is entered: the vCPU starts on the BIOS-state prologue, which ends in mov ecx, ENTRY; jmp ecx
     * (or, where the kernel covers the BIOS area, on the entry itself).
     */
    private long entered(BootState state) {
        long rip = state.registers().rip();
        if (rip != PcFirmwareState.PROLOGUE) return rip;
        byte[] code = PcFirmwareState.prologue(0);
        int mov = code.length - 7;
        assertThat(memory.readByte(rip + mov) & 0xff).as("mov ecx, imm32 in the prologue").isEqualTo(0xb9);
        return Integer.toUnsignedLong(memory.readInt(rip + mov + 1));
    }

    @Test
    void aBiosLeavesItsPicsPitAndVectorTableAsSeaBiosDoes() throws IOException {
        load(file("k", kernel()), Optional.empty(), "");
        // IVT: IRQ 0 (vector 8) and IRQ 8 (0x70) to handlers that acknowledge the PIC, the others to an IRET.
        int timer = memory.readInt(8 * 4), rtc = memory.readInt(0x70 * 4), other = memory.readInt(0x21 * 4);
        assertThat(timer >>> 16).isEqualTo(0xf000);
        long timerHandler = 0xf0000L + (timer & 0xffff);
        assertThat(memory.readBytes(timerHandler, 7)).as("push ax; mov al,0x20; out 0x20,al; pop ax; iret")
                .isEqualTo(new byte[] {0x50, (byte) 0xb0, 0x20, (byte) 0xe6, 0x20, 0x58, (byte) 0xcf});
        assertThat(memory.readByte(0xf0000L + (rtc & 0xffff) + 4) & 0xff).as("the slave's EOI first").isEqualTo(0xa0);
        assertThat(memory.readByte(0xf0000L + (other & 0xffff)) & 0xff).as("iret").isEqualTo(0xcf);
        // The prologue's port writes, in order: the ICWs, the masks, then the PIT.
        byte[] code = memory.readBytes(PcFirmwareState.PROLOGUE, PcFirmwareState.prologue(0).length);
        java.util.List<String> outs = new java.util.ArrayList<>();
        for (int i = 0; i + 3 < code.length; i++) {
            if ((code[i] & 0xff) == 0xb0 && (code[i + 2] & 0xff) == 0xe6) outs.add(String.format("%02x<-%02x", code[i + 3] & 0xff, code[i + 1] & 0xff));
        }
        assertThat(outs).containsExactly("20<-11", "a0<-11", "21<-08", "a1<-70", "21<-04", "a1<-02", "21<-01", "a1<-01",
                "21<-fa", "a1<-ff", "43<-36", "40<-00", "40<-00");
    }

    @Test
    void theKernelStartsInFlat32BitProtectedModeWithTheMagicInEaxAndTheInformationInEbx() throws IOException {
        BootState state = load(file("k", kernel()), Optional.empty(), "");
        assertThat(entered(state)).isEqualTo(0x40000c);
        assertThat(state.registers().rax()).isEqualTo(0x2BADB002L);
        assertThat(state.registers().rflags() & (1 << 9 | 1 << 17)).as("IF and VM clear").isZero();
        SpecialRegisters s = state.specialRegisters();
        assertThat(s.cr0() & SpecialRegisters.CR0_PE).isNotZero();
        assertThat(s.cr0() & SpecialRegisters.CR0_PG).as("paging off").isZero();
        assertThat(s.efer()).isZero();
        assertThat(s.cs().base()).isZero();
        assertThat(Integer.toUnsignedLong(s.cs().limit())).isEqualTo(0xffffffffL);
        assertThat(s.cs().db()).as("32-bit code").isTrue();
        assertThat(s.cs().l()).isFalse();
        for (var data : List.of(s.ds(), s.es(), s.ss(), s.fs(), s.gs())) {
            assertThat(data.base()).isZero();
            assertThat(Integer.toUnsignedLong(data.limit())).isEqualTo(0xffffffffL);
        }
        // The GDT the selectors refer to is in memory: a far jump or a segment reload must find the same segments.
        assertThat(memory.readLong(s.gdt().base() + s.cs().selector())).isEqualTo(SegmentDescriptor.encode(s.cs()));
        assertThat(memory.readLong(s.gdt().base() + s.ds().selector())).isEqualTo(SegmentDescriptor.encode(s.ds()));
    }

    @Test
    void theInformationStructureGivesMemorySizesTheMemoryMapTheCommandLineAndTheModule() throws IOException {
        Path kernel = file("k.flat", kernel());
        byte[] env = "NR_CPUS=2\n".getBytes(StandardCharsets.US_ASCII);
        Path initrd = file("env", env);
        BootState state = load(kernel, Optional.of(initrd), "  -t 42 ");
        long info = state.registers().rbx();
        assertThat(info).as("above the kernel's bss, page-aligned").isGreaterThanOrEqualTo(0x441000).isEqualTo(info & -4096);
        int flags = memory.readInt(info);
        assertThat(flags & 0b1001001101).isEqualTo(0b1001001101); // memory, cmdline, mods, mmap, loader name
        assertThat(memory.readInt(info + 4)).isEqualTo(640);
        assertThat(Integer.toUnsignedLong(memory.readInt(info + 8))).isEqualTo((MEMORY - MIB) / 1024);
        assertThat(cString(Integer.toUnsignedLong(memory.readInt(info + 16)))).isEqualTo(kernel + " -t 42");

        assertThat(memory.readInt(info + 20)).isEqualTo(1);
        long mod = Integer.toUnsignedLong(memory.readInt(info + 24));
        long start = Integer.toUnsignedLong(memory.readInt(mod));
        long end = Integer.toUnsignedLong(memory.readInt(mod + 4));
        assertThat(end - start).isEqualTo(env.length);
        assertThat(memory.readBytes(start, env.length)).isEqualTo(env);
        assertThat(start).as("clear of the kernel").isGreaterThanOrEqualTo(0x441000);
        assertThat(cString(Integer.toUnsignedLong(memory.readInt(mod + 8)))).isEqualTo(initrd.toString());

        long mapLength = Integer.toUnsignedLong(memory.readInt(info + 44));
        long map = Integer.toUnsignedLong(memory.readInt(info + 48));
        List<E820Map.Entry> seen = new ArrayList<>();
        for (long e = map; e < map + mapLength; e += memory.readInt(e) + 4) {
            seen.add(new E820Map.Entry(memory.readLong(e + 4), memory.readLong(e + 12), memory.readInt(e + 20)));
        }
        assertThat(seen).isEqualTo(E820Map.of(memory));
        assertThat(cString(Integer.toUnsignedLong(memory.readInt(info + 64)))).isEqualTo("jhyve");
    }

    @Test
    void withoutAnInitrdThereAreNoModulesAndTheCommandLineIsTheKernelsPath() throws IOException {
        Path kernel = file("k", kernel());
        long info = load(kernel, Optional.empty(), "").registers().rbx();
        assertThat(memory.readInt(info + 20)).isZero();
        assertThat(cString(Integer.toUnsignedLong(memory.readInt(info + 16)))).isEqualTo(kernel.toString());
    }

    @Test
    void aVirtualEntryPointIsMovedToItsSegmentsPhysicalAddress() throws IOException {
        byte[] image = new Elf32().load(0xc0400000L, 0x400000, headerThen(0, new byte[32]), 0x100).withEntry(0xc0400010L).build();
        assertThat(entered(load(file("k", image), Optional.empty(), ""))).isEqualTo(0x400010);
    }

    @Test
    void theAoutKludgeLoadsTheFileFromTheHeadersAddressesAndZeroesTheBss() throws IOException {
        // A flat binary: 16 bytes of padding, then the header at file offset 16 saying it sits at 0x200010.
        ByteBuffer b = ByteBuffer.allocate(0x100).order(ByteOrder.LITTLE_ENDIAN);
        int flags = 1 << 16;
        b.putInt(16, MultibootHeader.MAGIC).putInt(20, flags).putInt(24, -(MultibootHeader.MAGIC + flags))
                .putInt(28, 0x200010).putInt(32, 0x200000).putInt(36, 0x200080).putInt(40, 0x201000).putInt(44, 0x200040);
        for (int i = 48; i < 0x100; i++) b.put(i, (byte) i);
        byte[] image = b.array();
        Path path = file("kernel.bin", image);
        assertThat(ImageFormat.detect(path)).isInstanceOf(ImageFormat.Multiboot.class);
        memory.fill(0x200000, 0x2000, (byte) 0x77);
        BootState state = load(path, Optional.empty(), "");
        assertThat(memory.readBytes(0x200000, 0x80)).isEqualTo(java.util.Arrays.copyOf(image, 0x80));
        assertThat(memory.readBytes(0x200080, 0x1000 - 0x80)).as("load_end_addr stops the copy; bss_end_addr zeroes").containsOnly(0);
        assertThat(state.registers().rbx()).as("the information right after the bss").isEqualTo(0x201000);
        assertThat(entered(state)).isEqualTo(0x200040);
    }

    @Test
    void aMagicWordWithAWrongChecksumIsNoHeader() throws IOException {
        byte[] code = headerThen(0, new byte[16]);
        code[8]++; // the checksum
        byte[] image = new Elf32().load(0x400000, 0x400000, code, 0x100).withEntry(0x400000).build();
        Path path = file("k", image);
        assertThatThrownBy(() -> ImageFormat.detect(path)).isInstanceOf(BootException.class).hasMessageContaining("without a Multiboot header");
    }

    @Test
    void aHeaderPastTheFirst8KiBIsNotFound() throws IOException {
        byte[] code = new byte[8192 + 16];
        System.arraycopy(headerThen(0, new byte[0]), 0, code, 8192, 12);
        Path path = file("k", new Elf32().load(0x400000, 0x400000, code, code.length).withEntry(0x400000).build());
        assertThatThrownBy(() -> ImageFormat.detect(path)).hasMessageContaining("without a Multiboot header");
    }

    @Test
    void flagsAskingForAVideoModeAreRefused() throws IOException {
        Path path = file("k", new Elf32().load(0x400000, 0x400000, headerThen(1 << 2, new byte[16]), 0x100).withEntry(0x400000).build());
        assertThatThrownBy(() -> load(path, Optional.empty(), "")).isInstanceOf(BootException.class).hasMessageContaining("requires features");
    }

    @Test
    void segmentsOutsideRamOrOverJhyvesTablesAreRefusedBeforeAnythingIsWritten() throws IOException {
        Path high = file("high", new Elf32().load(MEMORY, MEMORY, headerThen(0, new byte[16]), 0x100).withEntry(MEMORY).build());
        assertThatThrownBy(() -> load(high, Optional.empty(), "")).hasMessageContaining("is not in guest RAM");
        Path low = file("low", new Elf32().load(0x400, 0x400, headerThen(0, new byte[16]), 0x100).withEntry(0x400).build());
        assertThatThrownBy(() -> load(low, Optional.empty(), "")).hasMessageContaining("overlaps the first 4 KiB");
        Path bios = file("bios", new Elf32().load(0xe0000, 0xe0000, headerThen(0, new byte[16]), 0x100).withEntry(0xe0000).build());
        assertThatThrownBy(() -> load(bios, Optional.empty(), "")).hasMessageContaining("overlaps the BIOS area");
        Path outside = file("entry", new Elf32().load(0x400000, 0x400000, headerThen(0, new byte[16]), 0x100).withEntry(0x500000).build());
        assertThatThrownBy(() -> load(outside, Optional.empty(), "")).hasMessageContaining("entry point 0x500000 is not inside");
        assertThat(memory.readBytes(0x400000, 16)).containsOnly(0);
    }

    @Test
    void aKernelBelowOneMegabyteIsLoadedThereAndItsInformationGoesAboveIt() throws IOException {
        // kvm-unit-tests' realmode.flat is linked at 0x8000, over the pages jhyve's long-mode loaders use for page tables.
        byte[] image = new Elf32().load(0x8000, 0x8000, headerThen(0, TestElf.bytes(0x3000, 3)), 0x4000).withEntry(0x8000).build();
        BootState state = load(file("realmode.flat", image), Optional.empty(), "");
        assertThat(memory.readBytes(0x800c, 0x3000)).isEqualTo(TestElf.bytes(0x3000, 3));
        assertThat(state.registers().rbx()).isGreaterThanOrEqualTo(MIB);
    }

    @Test
    void elf64ProgramsAndPvhKernelsAreStillDetectedAsBefore() throws IOException {
        // An ELF64 with a Multiboot header stays an ELF64 program: the 64-bit rules come first.
        byte[] program = TestElf.executable(0x100000).load(0x100000, headerThen(0, new byte[16]), 0x100).build();
        assertThat(ImageFormat.detect(file("p", program))).isInstanceOf(ImageFormat.Elf64Program.class);
        byte[] pvh = TestElf.executable(0x1000000).load(0x1000000, headerThen(0, new byte[16]), 0x100)
                .notes(4, TestElf.pvhNote(0x1000000, 4)).build();
        assertThat(ImageFormat.detect(file("v", pvh))).isInstanceOf(ImageFormat.ElfPvhKernel.class);
    }
}
