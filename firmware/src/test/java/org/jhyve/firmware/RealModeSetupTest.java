package org.jhyve.firmware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.junit.jupiter.api.Test;

class RealModeSetupTest {
    @Test
    void segmentZeroPutsEverySegmentAtBaseZeroNotAtTheResetVector() {
        SpecialRegisters sregs = RealModeSetup.specialRegisters(0);
        assertThat(sregs.cs().base()).isZero(); // KVM's reset state has 0xffff0000 here
        assertThat(sregs.cs().selector()).isZero();
        assertThat(sregs.cs().limit()).isEqualTo(0xffff);
        assertThat(sregs.cs().type()).isEqualTo(0xb);
        for (Segment s : new Segment[] {sregs.ds(), sregs.es(), sregs.fs(), sregs.gs(), sregs.ss()}) {
            assertThat(s).isEqualTo(Segment.realMode(0, 0x3));
        }
    }

    @Test
    void onlyEtIsSetInCr0AndNothingElseIsEnabled() {
        SpecialRegisters sregs = RealModeSetup.specialRegisters(0);
        assertThat(sregs.cr0()).isEqualTo(0x10);
        assertThat(sregs.cr3()).isZero();
        assertThat(sregs.cr4()).isZero();
        assertThat(sregs.efer()).isZero();
        assertThat(sregs.protectedMode()).isFalse();
        assertThat(sregs.idt().base()).isZero();
        assertThat(sregs.idt().limit()).isEqualTo(0x3ff);
        assertThat(sregs.tr().present()).isTrue();
        assertThat(sregs.tr().unusable()).isFalse();
        assertThat(sregs.apicBase()).isEqualTo(0xfee00900L);
    }

    @Test
    void aNonZeroSegmentMovesTheBases() {
        SpecialRegisters sregs = RealModeSetup.specialRegisters(0x1000);
        assertThat(sregs.cs().base()).isEqualTo(0x10000);
        assertThat(sregs.ss().base()).isEqualTo(0x10000);
        assertThat(sregs.ds().selector()).isEqualTo(0x1000);
        assertThatThrownBy(() -> RealModeSetup.specialRegisters(0x10000)).isInstanceOf(IllegalArgumentException.class);
    }
}
