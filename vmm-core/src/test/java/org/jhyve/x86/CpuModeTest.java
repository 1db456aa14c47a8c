package org.jhyve.x86;

import static org.assertj.core.api.Assertions.assertThat;

import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.junit.jupiter.api.Test;

class CpuModeTest {
    private static SpecialRegisters withCs(SpecialRegisters s, Segment cs) {
        return new SpecialRegisters(cs, s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(), s.idt(),
                s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase());
    }

    private static Segment code16() {
        return new Segment(0, 0xffff, 0x8, 0xb, true, 0, false, true, false, false, false, false);
    }

    @Test
    void realModeIgnoresTheCsCache() {
        SpecialRegisters real = withCs(CpuStates.realMode(0, 0, 0), Segment.code32(0x8));

        assertThat(CpuMode.of(real)).isEqualTo(CpuMode.REAL);
    }

    @Test
    void protectedModeFollowsCsD() {
        SpecialRegisters prot = CpuStates.protected32(0);

        assertThat(CpuMode.of(prot)).isEqualTo(CpuMode.PROTECTED_32);
        assertThat(CpuMode.of(withCs(prot, code16()))).isEqualTo(CpuMode.PROTECTED_16);
    }

    @Test
    void virtual8086ModeComesFromRflags() {
        assertThat(CpuMode.of(CpuStates.protected32(0), CpuMode.RFLAGS_VM | 0x2)).isEqualTo(CpuMode.VIRTUAL_8086);
        assertThat(CpuMode.of(CpuStates.longMode(), CpuMode.RFLAGS_VM)).isEqualTo(CpuMode.LONG_64);
    }

    @Test
    void longModeFollowsCsLThenCsD() {
        SpecialRegisters lm = CpuStates.longMode();

        assertThat(CpuMode.of(lm)).isEqualTo(CpuMode.LONG_64);
        assertThat(CpuMode.of(withCs(lm, Segment.code32(0x8)))).isEqualTo(CpuMode.COMPAT_32);
        assertThat(CpuMode.of(withCs(lm, code16()))).isEqualTo(CpuMode.COMPAT_16);
    }

    @Test
    void defaultSizes() {
        assertThat(CpuMode.LONG_64.defaultOperandSize()).isEqualTo(32);
        assertThat(CpuMode.LONG_64.defaultAddressSize()).isEqualTo(64);
        assertThat(CpuMode.COMPAT_32.defaultAddressSize()).isEqualTo(32);
        assertThat(CpuMode.REAL.defaultOperandSize()).isEqualTo(16);
        assertThat(CpuMode.PROTECTED_16.defaultAddressSize()).isEqualTo(16);
    }

    @Test
    void instructionPointerAndLinearAddressWidths() {
        assertThat(CpuMode.LONG_64.maskInstructionPointer(0xffffffff81000000L)).isEqualTo(0xffffffff81000000L);
        assertThat(CpuMode.COMPAT_32.maskInstructionPointer(0x1_0000_0001L)).isEqualTo(1);
        assertThat(CpuMode.REAL.maskLinearAddress(0x1_0000_0010L)).isEqualTo(0x10);
        assertThat(CpuMode.LONG_64.maskLinearAddress(0x1_0000_0010L)).isEqualTo(0x1_0000_0010L);
    }
}
