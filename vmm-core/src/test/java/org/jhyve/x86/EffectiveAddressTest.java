package org.jhyve.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.x86.Hex.bytes;

import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.junit.jupiter.api.Test;

class EffectiveAddressTest {
    private final InstructionDecoder decoder = new InstructionDecoder();

    private EffectiveAddress address(String hex, Registers regs, SpecialRegisters sregs) throws DecodeException {
        return EffectiveAddress.of(decoder.decode(bytes(hex), CpuMode.of(sregs, regs.rflags())), regs, sregs);
    }

    private static Registers regs(long rax, long rcx, long rsp, long rbp, long rip) {
        return new Registers(rax, 0, rcx, 0, 0, 0, rsp, rbp, 0, 0, 0, 0, 0, 0, 0, 0, rip, Registers.RFLAGS_RESERVED);
    }

    @Test
    void sixtyFourBitModeIgnoresTheStackSegmentBase() throws DecodeException {
        SpecialRegisters sregs = CpuStates.withSsBase(CpuStates.longMode(), 0x5000_0000L);

        EffectiveAddress ea = address("48 8b 44 24 08", regs(0, 0, 0xffffc90000001ff0L, 0, 0), sregs);

        assertThat(ea.segment()).isEqualTo(SegmentRegister.SS);
        assertThat(ea.offset()).isEqualTo(0xffffc90000001ff8L);
        assertThat(ea.linear()).isEqualTo(0xffffc90000001ff8L);
    }

    @Test
    void sixtyFourBitModeAddsTheFsBase() throws DecodeException {
        SpecialRegisters sregs = CpuStates.withFsBase(CpuStates.longMode(), 0xffff888000000000L);

        EffectiveAddress ea = address("64 48 8b 04 25 28 00 00 00", regs(0, 0, 0, 0, 0), sregs);

        assertThat(ea.segment()).isEqualTo(SegmentRegister.FS);
        assertThat(ea.offset()).isEqualTo(0x28);
        assertThat(ea.linear()).isEqualTo(0xffff888000000028L);
    }

    @Test
    void baseIndexScaleAndDisplacement() throws DecodeException {
        EffectiveAddress ea = address("48 8b 44 c8 f0", regs(0x1000, 3, 0, 0, 0), CpuStates.longMode()); // [rax+rcx*8-16]

        assertThat(ea.linear()).isEqualTo(0x1000 + 3 * 8 - 16);
    }

    @Test
    void ripRelativeCountsFromTheNextInstruction() throws DecodeException {
        EffectiveAddress ea = address("0f ae 15 10 00 00 00", regs(0, 0, 0, 0, 0xffffffff81000000L), CpuStates.longMode());

        assertThat(ea.linear()).isEqualTo(0xffffffff81000000L + 7 + 0x10);
    }

    @Test
    void addressSizePrefixWrapsTheOffsetTo32BitsIn64BitMode() throws DecodeException {
        EffectiveAddress ea = address("67 8b 40 20", regs(0x1_ffff_fff0L, 0, 0, 0, 0), CpuStates.longMode()); // [eax+0x20]

        assertThat(ea.offset()).isEqualTo(0x10);
        assertThat(ea.linear()).isEqualTo(0x10);
    }

    @Test
    void protectedModeAddsTheDataSegmentBaseAndWrapsAt4GiB() throws DecodeException {
        SpecialRegisters sregs = CpuStates.protected32(0x10000);

        EffectiveAddress wrappedOffset = address("8b 40 04", regs(0xfffffffeL, 0, 0, 0, 0), sregs); // [eax+4]
        EffectiveAddress wrappedLinear = address("8b 00", regs(0xffff0000L, 0, 0, 0, 0), sregs); // [eax]

        assertThat(wrappedOffset.offset()).isEqualTo(2);
        assertThat(wrappedOffset.linear()).isEqualTo(0x10002);
        assertThat(wrappedLinear.linear()).isEqualTo(0);
    }

    @Test
    void realModeBpAddressingUsesSsAndWrapsAt64KiB() throws DecodeException {
        SpecialRegisters sregs = CpuStates.realMode(0, 0x2000, 0x1000);

        EffectiveAddress ea = address("8b 46 fe", regs(0, 0, 0, 0, 0), sregs); // mov ax, [bp-2]

        assertThat(ea.segment()).isEqualTo(SegmentRegister.SS);
        assertThat(ea.offset()).isEqualTo(0xfffe);
        assertThat(ea.linear()).isEqualTo(0x10000 + 0xfffe);
    }

    @Test
    void sixteenBitAddressingReadsOnlyTheLowWordOfRegisters() throws DecodeException {
        Registers regs = new Registers(0, 0x1234_ffffL, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);

        EffectiveAddress ea = address("8b 00", regs, CpuStates.realMode(0, 0x2000, 0x1000)); // [bx+si]

        assertThat(ea.segment()).isEqualTo(SegmentRegister.DS);
        assertThat(ea.offset()).isEqualTo(1);
        assertThat(ea.linear()).isEqualTo(0x20001);
    }

    @Test
    void segmentOverrideReplacesTheStackDefault() throws DecodeException {
        EffectiveAddress ea = address("3e 8b 46 fe", regs(0, 0, 0, 0x10, 0), CpuStates.realMode(0, 0x2000, 0x1000));

        assertThat(ea.segment()).isEqualTo(SegmentRegister.DS);
        assertThat(ea.linear()).isEqualTo(0x20000 + 0xe);
    }

    @Test
    void compatibilityModeLinearAddressesAre32Bit() throws DecodeException {
        SpecialRegisters lm = CpuStates.longMode();
        Segment ds = new Segment(0xfffff000L, 0xffffffff, 0x20, 0x3, true, 0, true, true, false, true, false, false);
        SpecialRegisters compat = new SpecialRegisters(Segment.code32(0x8), ds, lm.es(), lm.fs(), lm.gs(), lm.ss(),
                lm.tr(), lm.ldt(), lm.gdt(), lm.idt(), lm.cr0(), 0, 0, lm.cr4(), 0, lm.efer(), 0);

        EffectiveAddress ea = address("8b 00", regs(0x2000, 0, 0, 0, 0), compat);

        assertThat(ea.linear()).isEqualTo(0x1000);
    }

    @Test
    void registerOperandsHaveNoAddress() {
        assertThatThrownBy(() -> address("8b c0", regs(0, 0, 0, 0, 0), CpuStates.longMode()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("8b c0");
    }

    @Test
    void canonicalAddresses() {
        SpecialRegisters sregs = CpuStates.longMode();

        assertThat(EffectiveAddress.isCanonical(0x0000_7fff_ffff_ffffL, sregs)).isTrue();
        assertThat(EffectiveAddress.isCanonical(0xffff_8000_0000_0000L, sregs)).isTrue();
        assertThat(EffectiveAddress.isCanonical(0x0000_8000_0000_0000L, sregs)).isFalse();
        assertThat(EffectiveAddress.isCanonical(0x0000_8000_0000_0000L, CpuStates.withCr4(sregs, sregs.cr4() | 1L << 12))).isTrue();
    }
}
