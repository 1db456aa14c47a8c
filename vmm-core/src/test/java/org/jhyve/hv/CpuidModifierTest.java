package org.jhyve.hv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.hv.CpuidModifier.Register.EAX;
import static org.jhyve.hv.CpuidModifier.Register.EBX;
import static org.jhyve.hv.CpuidModifier.Register.ECX;
import static org.jhyve.hv.CpuidModifier.Register.EDX;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpuidModifierTest {
    private static final int SIG = CpuidEntry.FLAG_SIGNIFICANT_INDEX;

    @Test
    void theMaskedBitsTakeTheValueAndTheOthersStayTheHypervisors() {
        CpuidEntry e = new CpuidEntry(1, 0, 0, 0x1111_1111, 0x2222_2222, 0xffff_0000, 0x4444_4444);
        assertThat(new CpuidModifier(1, 0, ECX, 0x0ff0_0ff0, 0x1234_5678).applyTo(e))
                .isEqualTo(new CpuidEntry(1, 0, 0, 0x1111_1111, 0x2222_2222, 0xf23f_0670, 0x4444_4444));
        assertThat(CpuidModifier.set(1, EAX, 7).applyTo(e).eax()).isEqualTo(7);
        assertThat(CpuidModifier.clear(1, EDX, 0x4000_0004).applyTo(e).edx()).isEqualTo(0x0444_4440);
        assertThat(CpuidModifier.set(2, EBX, 0).applyTo(e)).as("another leaf").isSameAs(e);
    }

    @Test
    void aSubLeafMattersOnlyWhereTheLeafHasSubLeaves() {
        CpuidEntry leaf7sub1 = new CpuidEntry(7, 1, SIG, 0, 0, 0, 0);
        assertThat(new CpuidModifier(7, 0, EBX, -1, 9).applyTo(leaf7sub1)).isSameAs(leaf7sub1);
        assertThat(new CpuidModifier(7, 1, EBX, -1, 9).applyTo(leaf7sub1).ebx()).isEqualTo(9);
        CpuidEntry flat = new CpuidEntry(0x40000001, 3, 0, 0xff, 0, 0, 0); // index not significant: ignored
        assertThat(CpuidModifier.clear(0x40000001, EAX, 0x0f).applyTo(flat).eax()).isEqualTo(0xf0);
    }

    @Test
    void vendorIsLeafZerosEbxEdxEcxInThatOrder() {
        CpuidEntry amd = new CpuidEntry(0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65);
        CpuidEntry intel = CpuidModifier.applyAll(CpuidModifier.vendor("GenuineIntel"), List.of(amd)).get(0);
        assertThat(intel).isEqualTo(new CpuidEntry(0, 0, 0, 0x10, 0x756e6547, 0x6c65746e, 0x49656e69));
        assertThatThrownBy(() -> CpuidModifier.vendor("Intel")).hasMessageContaining("12 ASCII characters");
        assertThatThrownBy(() -> CpuidModifier.vendor("GenuineInté1")).hasMessageContaining("12 ASCII characters");
    }

    @Test
    void applyAllKeepsTheOrderAddsNoLeafAndAppliesModifiersInTurn() {
        List<CpuidEntry> entries = List.of(new CpuidEntry(1, 0, 0, 0, 0, 0xff, 0), new CpuidEntry(0, 0, 0, 1, 2, 3, 4));
        List<CpuidModifier> modifiers = List.of(CpuidModifier.clear(1, ECX, 0x0f), CpuidModifier.set(1, ECX, 0x100),
                CpuidModifier.set(0x80000008, EAX, 1));
        assertThat(CpuidModifier.applyAll(modifiers, entries))
                .containsExactly(new CpuidEntry(1, 0, 0, 0, 0, 0x100, 0), entries.get(1));
        assertThat(CpuidModifier.applyAll(List.of(), entries)).isEqualTo(entries);
    }

    @Test
    void aVmSpecCarriesItsTemplatesCpuidAndNoneByDefault() {
        assertThat(new VmSpec(1 << 20, 1).cpuid()).isEmpty();
        assertThat(new VmSpec(1 << 20, 1, CpuidModifier.vendor("GenuineIntel")).cpuid()).hasSize(3);
    }
}
